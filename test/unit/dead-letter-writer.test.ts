import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadLetterWriter, type DeadLetterTransport } from '../../functions/runtime/dead-letter-writer';
import { buildEnvelope } from '../../functions/runtime/envelope';
import { decodeEvent } from '../../functions/runtime/event';
import { buildKafkaEvent } from '../../local/esm/lambda-event';

const envelopes = (n: number) =>
  decodeEvent(buildKafkaEvent(Array.from({ length: n }, (_, offset) => ({ topic: 't', partition: 0, offset, value: '{}' })))).partitions[0]!.records.map((record) =>
    buildEnvelope(record, { error: new Error('x'), attempts: 1, firstFailureAt: 0, lastFailureAt: 0, source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' } }));

afterEach(() => vi.useRealTimers());

describe('DeadLetterWriter', () => {
  it('takes a deadline that is not a whole number of milliseconds (AbortSignal.timeout would throw on a fraction)', async () => {
    const sent: string[] = [];
    const transport: DeadLetterTransport = {
      async sendMessageBatch(_url, entries, signal) {
        expect(signal.aborted).toBe(false);
        sent.push(...entries.map((e) => e.Id));
        return { failed: [] };
      },
      async putObject() {},
    };
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, deadline: Date.now() + 992.125 });
    for (const e of envelopes(3)) writer.add(e);
    expect(await writer.flush()).toMatchObject({ sent: 3, unsent: [] });
  });

  it('bounds sends that started before the flush by the deadline given at creation, and reports them unsent', async () => {
    const transport: DeadLetterTransport = {
      // Never answers: only the abort signal ends the call.
      sendMessageBatch: (_url, _entries, signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      async putObject() {},
    };
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, deadline: Date.now() + 200 });
    for (const e of envelopes(10)) writer.add(e); // a full batch: sent at once, long before the flush
    const { sent, unsent } = await writer.flush();
    expect(sent).toBe(0);
    expect(unsent.map((u) => u.envelope.record.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
