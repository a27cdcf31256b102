// The replay's release of a parked key, over the in-memory table and bucket: produced in order
// with the park epoch, released on condition, newcomers produced, nothing produced when one record
// may not be, dry run counting.
import { beforeEach, describe, expect, it } from 'vitest';
import type { Message as KafkaMessage } from 'kafkajs';
import { FakeParkedKeyStore } from '../../support/fake-parked-key-store.js';
import { FakeBucket, headerOf } from '../../support/park-key-world.js';
import { releaseParkedKey, ReleaseRefusedError, parkedKeyOf } from '../../../src/replay/parked-key-release.js';
import { parkedKeyItemId, parkedRecordObjectKey } from '../../../src/runtime/parking/parked-key-names.js';
import { parseReplayRequest } from '../../../src/replay/request.js';
import type { DeadLetterEnvelope } from '../../../src/runtime/envelope.js';
import { startReplayTracing } from '../../../src/replay/trace-links.js';
import { registerTracing, traceparentOf } from '../../support/tracing.js';

const KEY = Buffer.from('account-7').toString('base64');
const EPOCH = 1_000;

function envelope(offset: number, extra: Partial<DeadLetterEnvelope> = {}): DeadLetterEnvelope {
  return {
    version: 1,
    kind: 'kafka-dead-letter',
    record: { topic: 't', partition: 2, offset, timestamp: 0, timestampType: 'CREATE_TIME', key: KEY, value: null, headers: [] },
    error: { type: 'Error', message: 'bad' },
    attempts: 1,
    firstFailureAt: new Date(0).toISOString(),
    lastFailureAt: new Date(0).toISOString(),
    source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka', consumerGroup: 'app-t' },
    replayCount: 0,
    ...extra,
  };
}

let store: FakeParkedKeyStore;
let bucket: FakeBucket;
let produced: Array<{ topic: string; messages: KafkaMessage[] }>;
/** The consumer group's committed offset; the copies go from offset 100 on. */
let committed: number | undefined;
const parked = () => ({ epoch: EPOCH, head: 1, since: 1, after: 1, last: 1, count: 0 });
const head = envelope(1, { parked: { epoch: EPOCH } });
const coordinates = parkedKeyOf(head);
const id = parkedKeyItemId(coordinates);
const park = (offset: number, extra: Partial<DeadLetterEnvelope> = {}) => {
  bucket.objects.set(parkedRecordObjectKey(coordinates, offset), JSON.stringify(envelope(offset, extra)));
  const item = store.items.get(id)!;
  store.items.set(id, { ...item, last: offset, count: item.count + 1 });
};

function options(request: Record<string, unknown> = {}, onProduce?: () => void) {
  return {
    store,
    objects: bucket,
    replayLimit: 3,
    settings: parseReplayRequest(request, ['t']),
    pollMs: 0,
    committed: async () => committed,
    produce: async (topic: string, _partition: number, messages: KafkaMessage[]) => {
      produced.push({ topic, messages });
      onProduce?.();
      return 100;
    },
  };
}
const offsets = () => produced.flatMap((p) => p.messages.map((m) => Number(headerOf(m, 'x-dlq-original-offset'))));

beforeEach(() => {
  store = new FakeParkedKeyStore();
  bucket = new FakeBucket();
  produced = [];
  store.items.set(id, parked());
  committed = 1_000;
});

describe('releasing a parked key', () => {
  it('produces the dead letter, then the parked records in offset order, each with the park epoch, to the same partition; releases the key; deletes the objects', async () => {
    // Offsets of different lengths: padded names list in offset order (9 before 10).
    for (const offset of [9, 10, 120]) park(offset);
    const result = await releaseParkedKey(head, options(), Date.now() + 10_000);
    expect(result).toEqual({ records: 4, released: true, done: true });
    expect(offsets()).toEqual([1, 9, 10, 120]);
    for (const { topic, messages } of produced) {
      expect(topic).toBe('t');
      for (const m of messages) {
        expect(m.partition).toBe(2);
        expect(headerOf(m, 'x-dlq-park-epoch')).toBe(String(EPOCH));
      }
    }
    expect(store.items.get(id)!.released).toBe(true);
    expect(bucket.objects.size).toBe(0);
  });

  it('does not release the key before the consumer group is past the copies: the dead letter stays, and the next run goes on', async () => {
    park(5);
    committed = 99; // records before the copies not all consumed: one of the key could still be among them
    const first = await releaseParkedKey(head, options(), Date.now() + 10);
    expect(first).toEqual({ records: 2, released: false, done: false });
    expect(store.items.get(id)).toMatchObject({ produced: 5, copiesFrom: 100 });
    park(8); // the consumer meets one more, and parks it
    committed = 100;
    const second = await releaseParkedKey(head, options(), Date.now() + 10_000);
    expect(second).toEqual({ records: 1, released: true, done: true });
    expect(offsets()).toEqual([1, 5, 8]);
  });

  it('produces what was parked meanwhile before it releases (the conditional delete fails, then holds)', async () => {
    park(5);
    let once = true;
    const result = await releaseParkedKey(
      head,
      options({}, () => {
        if (once) park(7);
        once = false;
      }),
      Date.now() + 10_000,
    );
    expect(result).toEqual({ records: 3, released: true, done: true });
    expect(offsets()).toEqual([1, 5, 7]);
  });

  it('does not release a key parked anew meanwhile (a release copy failed), and leaves it parked', async () => {
    park(5);
    const result = await releaseParkedKey(
      head,
      options({}, () => store.items.set(id, { ...parked(), epoch: EPOCH + 1, head: 50, last: 50 })),
      Date.now() + 10_000,
    );
    expect(result).toEqual({ records: 2, released: false, done: true });
    expect(store.items.get(id)!.epoch).toBe(EPOCH + 1);
  });

  it('produces nothing when a parked record is over the replay limit or not allowed, and says which', async () => {
    park(5);
    park(6, { replayCount: 3 });
    await expect(releaseParkedKey(head, options(), Date.now() + 10_000)).rejects.toThrow(ReleaseRefusedError);
    await expect(releaseParkedKey(head, options(), Date.now() + 10_000)).rejects.toThrow(
      /offset 6 was replayed 3 times already \(limit 3\)/,
    );
    expect(produced).toEqual([]);
    expect(store.items.has(id)).toBe(true);
  });

  it("produces nothing when parked records counted in the key's item are missing from the bucket (deleted by a lifecycle rule), and says so", async () => {
    for (const offset of [5, 6, 7]) park(offset);
    bucket.objects.delete(parkedRecordObjectKey(coordinates, 5));
    await expect(releaseParkedKey(head, options(), Date.now() + 10_000)).rejects.toThrow(
      /counts 3 parked records after offset 1, but the bucket holds 2 under parked\/.*: some were deleted/,
    );
    expect(produced).toEqual([]);
    expect(store.items.get(id)!.released).toBeUndefined();
  });

  it('refuses a targetTopic: a parked key is released to its own partition only', async () => {
    await expect(releaseParkedKey(head, options({ targetTopic: 't' }), Date.now() + 10_000)).resolves.toMatchObject({ released: true });
    store.items.set(id, parked());
    const other = options({}, undefined);
    const settings = { ...other.settings, targetTopic: 'elsewhere', allowedTopics: ['t', 'elsewhere'] };
    store.items.set(id, parked());
    await expect(releaseParkedKey(head, { ...other, settings }, Date.now() + 10_000)).rejects.toThrow(/without targetTopic/);
  });

  it('in a dry run, counts what it would release and produces nothing', async () => {
    park(5);
    park(6);
    const result = await releaseParkedKey(head, options({ dryRun: true }), Date.now() + 10_000);
    expect(result).toEqual({ records: 3, released: false, done: false });
    expect(produced).toEqual([]);
    expect(bucket.objects.size).toBe(2);
  });
});

describe('releasing a parked key, traced (an SDK registered)', () => {
  it("gives each copy a send span linked to its own envelope's contexts, and carries it in the copy's traceparent", async () => {
    const sdk = registerTracing();
    try {
      const context = (trace: string, span: string) => ({ traceparent: `00-${trace.repeat(32)}-${span.repeat(16)}-01` });
      park(5, { trace: { failure: context('c', 'c') } });
      const tracedHead = envelope(1, { parked: { epoch: EPOCH }, trace: { record: context('a', 'a'), failure: context('b', 'b') } });
      const result = await releaseParkedKey(tracedHead, { ...options(), tracing: startReplayTracing({}) }, Date.now() + 10_000);
      expect(result).toMatchObject({ records: 2, released: true });
      const sends = sdk.spans().filter((s) => s.name === 'send t');
      expect(sends.map((s) => s.links.map((l) => l.context.spanId))).toEqual([['a'.repeat(16), 'b'.repeat(16)], ['c'.repeat(16)]]);
      expect(sends.map((s) => s.attributes['messaging.destination.partition.id'])).toEqual(['2', '2']);
      expect(produced.flatMap((p) => p.messages.map((m) => headerOf(m, 'traceparent')))).toEqual(sends.map(traceparentOf));
    } finally {
      sdk.unregister();
    }
  });
});
