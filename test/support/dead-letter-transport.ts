import type { DeadLetterTransport, FailedEntry, OutgoingMessage } from '../../functions/runtime/dead-letter-writer';
import { buildEnvelope, type DeadLetterEnvelope } from '../../functions/runtime/envelope';
import { partitionOf } from './records';

export interface SendCall {
  readonly queueUrl: string;
  readonly entries: OutgoingMessage[];
  readonly signal: AbortSignal;
}

export interface PutCall {
  readonly bucket: string;
  readonly key: string;
  readonly body: string;
}

/**
 * An in-memory stand-in for SQS and S3 that records every call. `answer` decides each
 * SendMessageBatch call's `Failed[]` (by call number, 1-based); `put` may throw to fail a PutObject.
 */
export function fakeTransport(
  answer: (call: number, entries: OutgoingMessage[]) => FailedEntry[] = () => [],
  put: (call: number, key: string) => void = () => undefined,
) {
  const sends: SendCall[] = [];
  const puts: PutCall[] = [];
  /** The envelopes (or pointers) SQS accepted, in order. */
  const accepted: DeadLetterEnvelope[] = [];
  const transport: DeadLetterTransport = {
    async sendMessageBatch(queueUrl, entries, signal) {
      sends.push({ queueUrl, entries, signal });
      const failed = answer(sends.length, entries);
      const refused = new Set(failed.map((f) => f.Id));
      accepted.push(...entries.filter((e) => !refused.has(e.Id)).map((e) => JSON.parse(e.MessageBody) as DeadLetterEnvelope));
      return { failed };
    },
    async putObject(bucket, key, body) {
      puts.push({ bucket, key, body });
      put(puts.length, key);
    },
  };
  return { transport, sends, puts, accepted };
}

/** Every entry of a call refused with this code, as SQS's `Failed[]` reports it. */
export const refuseAll = (Code: string, SenderFault: boolean) => (_call: number, entries: OutgoingMessage[]) =>
  entries.map((e) => ({ Id: e.Id, SenderFault, Code }));

/** An in-memory stand-in for SQS: `sent` holds what it accepted; it can refuse everything. */
export function fakeQueue(refuse = false) {
  const { transport, accepted } = fakeTransport(refuse ? refuseAll('AccessDenied', true) : undefined);
  return { sent: accepted, transport };
}

const failure = { error: new Error('x'), attempts: 1, firstFailureAt: 0, lastFailureAt: 0, source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' } };

/** Dead-letter envelopes for offsets 0..n-1 of topic `t`, partition 0. */
export function envelopes(n: number, topic = 't'): DeadLetterEnvelope[] {
  return partitionOf(Array.from({ length: n }, (_, offset) => ({ topic, partition: 0, offset, value: '{}' }))).map((record) => buildEnvelope(record, failure));
}
