import { describe, expect, it } from 'vitest';
import { DeadLetterWriter, type DeadLetterTransport } from '../../functions/runtime/dead-letter-writer';
import { buildEnvelope } from '../../functions/runtime/envelope';
import { partitionOf } from '../support/records';

const envelopes = (n: number) =>
  partitionOf(Array.from({ length: n }, (_, offset) => ({ topic: 't', partition: 0, offset, value: '{}' }))).map((record) =>
    buildEnvelope(record, { error: new Error('x'), attempts: 1, firstFailureAt: 0, lastFailureAt: 0, source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' } }));

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

describe('DeadLetterWriter batching and classification', () => {
  const recorder = (answer: (call: number, ids: string[]) => Array<{ Id: string; SenderFault: boolean; Code: string }> = () => []) => {
    const calls: Array<{ ids: string[]; bytes: number }> = [];
    const transport: DeadLetterTransport = {
      async sendMessageBatch(_url, entries) {
        calls.push({ ids: entries.map((e) => e.Id), bytes: entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0) });
        return { failed: answer(calls.length, entries.map((e) => e.Id)) };
      },
      async putObject() {},
    };
    return { calls, transport };
  };

  // SQS: a SendMessageBatch holds at most 10 entries and 1 MiB in all (CONTRACTS §4); over that
  // the whole call fails with BatchRequestTooLong and the records would be redelivered for ever.
  it('splits calls so that none carries more than 1 MiB', async () => {
    const { calls, transport } = recorder();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport });
    for (const e of envelopes(3)) writer.add({ ...e, error: { type: 'Error', message: 'm'.repeat(400_000) } }); // ~530 KB bodies (message + stack-free)
    const { sent, unsent } = await writer.flush();
    expect(sent).toBe(3);
    expect(unsent).toEqual([]);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const c of calls) expect(c.bytes).toBeLessThanOrEqual(1_048_576);
  });

  it('retries entries SQS reports in Failed[] as its own fault, and gives up at once on the sender\'s', async () => {
    // A server-side failure whose code no name rule knows: only SenderFault says it is transient.
    const { calls, transport } = recorder((call, ids) => (call === 1 ? ids.map((Id) => ({ Id, SenderFault: false, Code: 'InternalFailure' })) : []));
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport });
    for (const e of envelopes(2)) writer.add(e);
    expect(await writer.flush()).toMatchObject({ sent: 2, unsent: [] });
    expect(calls).toHaveLength(2);

    const refused = recorder((_call, ids) => ids.map((Id) => ({ Id, SenderFault: true, Code: 'InvalidMessageContents' })));
    const strict = new DeadLetterWriter({ queueUrl: 'q', transport: refused.transport });
    for (const e of envelopes(2)) strict.add(e);
    const result = await strict.flush();
    expect(result.unsent).toHaveLength(2);
    expect(refused.calls).toHaveLength(1);
  });
});
