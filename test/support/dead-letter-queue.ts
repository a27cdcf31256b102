import type { DeadLetterTransport, OutgoingMessage } from '../../functions/runtime/dead-letter-writer';
import type { DeadLetterEnvelope } from '../../functions/runtime/envelope';

/** An in-memory stand-in for SQS: records what was sent; can refuse everything. */
export function fakeQueue(refuse = false) {
  const sent: DeadLetterEnvelope[] = [];
  const transport: DeadLetterTransport = {
    async sendMessageBatch(_url, entries: OutgoingMessage[]) {
      if (refuse) return { failed: entries.map((e) => ({ Id: e.Id, SenderFault: true, Code: 'AccessDenied' })) };
      sent.push(...entries.map((e) => JSON.parse(e.MessageBody) as DeadLetterEnvelope));
      return { failed: [] };
    },
    async putObject() {},
  };
  return { sent, transport };
}
