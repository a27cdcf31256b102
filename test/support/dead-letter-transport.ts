import type { DeadLetterTransport, FailedEntry, OutgoingMessage } from '../../src/runtime/dead-letter-writer.js';
import { buildEnvelope, type DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { partitionOf } from './records.js';

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
 * What SQS takes in a body or attribute value (SendMessage, API reference): #x9 #xA #xD
 * #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF. Anything else is refused, entry by entry.
 */
const SQS_REFUSES = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const refusedBySqs = (e: OutgoingMessage) =>
  SQS_REFUSES.test(e.MessageBody) || Object.values(e.MessageAttributes).some((a) => SQS_REFUSES.test(a.StringValue));

/**
 * An in-memory stand-in for SQS and S3 that records every call. Like SQS, it refuses an entry
 * holding a character outside SQS's set (InvalidMessageContents), whatever `answer` says. `answer` decides each
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
      for (const e of entries)
        if (refusedBySqs(e) && !failed.some((f) => f.Id === e.Id))
          failed.push({ Id: e.Id, SenderFault: true, Code: 'InvalidMessageContents' });
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

const failure = {
  error: new Error('x'),
  attempts: 1,
  firstFailureAt: 0,
  lastFailureAt: 0,
  source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' },
};

/** Dead-letter envelopes for offsets 0..n-1 of topic `t`, partition 0. */
export function envelopes(n: number, topic = 't'): DeadLetterEnvelope[] {
  return partitionOf(Array.from({ length: n }, (_, offset) => ({ topic, partition: 0, offset, value: '{}' }))).map((record) =>
    buildEnvelope(record, failure),
  );
}
