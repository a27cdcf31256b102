import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { InvocationBatcher, MAX_PAYLOAD_BYTES, type Fetch, type Invocation } from '../../../../local/esm/invocation-batcher.js';
import { encodedSize, type BrokerRecord } from '../../../../local/esm/lambda-event.js';

// docs/aws-contracts.md §1: a batch goes when it holds BatchSize records, when the batching window
// ends, or when it reaches the 6 MB synchronous invocation payload; one event carries several
// partitions, and Lambda runs one invocation per partition at a time (offset order).

const MB = 1024 * 1024;

function fetchOf(partition: number, count: number, opts: { from?: number; valueBytes?: number } = {}): Fetch & { next: number[] } {
  const next: number[] = [];
  const from = opts.from ?? 0;
  const records: BrokerRecord[] = Array.from({ length: count }, (_, i) => ({
    topic: 'orders',
    partition,
    offset: from + i,
    timestamp: 0,
    value: Buffer.alloc(opts.valueBytes ?? 10),
  }));
  return { id: `orders-${partition}`, records, done: (n) => next.push(n), next };
}

interface Delivery {
  readonly fetches: readonly Fetch[];
  readonly invocations: readonly Invocation[];
  readonly finish: () => void;
}

function batcher(batchSize: number, windowMs = 500) {
  const deliveries: Delivery[] = [];
  const b = new InvocationBatcher(
    { batchSize, windowMs },
    (fetches, invocations) => new Promise<void>((finish) => deliveries.push({ fetches, invocations, finish })),
  );
  return { b, deliveries };
}

const offsets = (i: Invocation) => i.records.map((r) => `${r.partition}@${r.offset}`);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('the invocation batcher', () => {
  it('waits out the batching window for a batch that is not full, then delivers what waited in one event', () => {
    const { b, deliveries } = batcher(10, 500);
    b.add(fetchOf(0, 3));
    vi.advanceTimersByTime(300);
    b.add(fetchOf(1, 2)); // the window runs from the first waiting fetch, not the last
    vi.advanceTimersByTime(199);
    expect(deliveries).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.invocations.map(offsets)).toEqual([['0@0', '0@1', '0@2', '1@0', '1@1']]);
    expect(deliveries[0]!.fetches.map((f) => f.id)).toEqual(['orders-0', 'orders-1']);
  });

  it('delivers at once when the waiting records reach batchSize, and does not deliver again at the window end', () => {
    const { b, deliveries } = batcher(5, 500);
    b.add(fetchOf(0, 3));
    b.add(fetchOf(1, 2));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.invocations.map(offsets)).toEqual([['0@0', '0@1', '0@2', '1@0', '1@1']]);
    deliveries[0]!.finish();
    // The window of a fetch that comes next starts with it: the cleared one does not cut it short.
    vi.advanceTimersByTime(100);
    b.add(fetchOf(2, 1));
    vi.advanceTimersByTime(450);
    expect(deliveries).toHaveLength(1);
    vi.advanceTimersByTime(50);
    expect(deliveries.map((d) => d.fetches.map((f) => f.id))).toEqual([['orders-0', 'orders-1'], ['orders-2']]);
  });

  it('opens one window per batch: fetches added during it neither extend it nor open another', () => {
    const { b, deliveries } = batcher(10, 500);
    b.add(fetchOf(0, 1));
    vi.advanceTimersByTime(300);
    b.add(fetchOf(1, 1));
    vi.advanceTimersByTime(200);
    expect(deliveries).toHaveLength(1);
    vi.advanceTimersByTime(100);
    b.add(fetchOf(2, 1)); // a new window, from now: nothing left over from the last one fires first
    vi.advanceTimersByTime(499);
    expect(deliveries).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(deliveries).toHaveLength(2);
  });

  it('delivers at once when the waiting records come to exactly 6 MB', () => {
    const { b, deliveries } = batcher(10_000, 60_000);
    const record = { topic: 'orders', partition: 0, offset: 0, timestamp: 0, value: Buffer.alloc(3 * MB) };
    // A header name adds its length to the size, a byte at a time: pad to the limit exactly.
    const padded = { ...record, headers: [['h'.repeat(MAX_PAYLOAD_BYTES - encodedSize({ ...record, headers: [['', '']] })), '']] as const };
    expect(encodedSize(padded)).toBe(MAX_PAYLOAD_BYTES);
    b.add({ id: 'orders-0', records: [padded], done: () => undefined });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.invocations[0]!.oversized).toBe(false);
  });

  it('delivers at once when the waiting records reach 6 MB, however far below batchSize', () => {
    const { b, deliveries } = batcher(10_000, 60_000);
    b.add(fetchOf(0, 1, { valueBytes: 2 * MB }));
    b.add(fetchOf(1, 1, { valueBytes: 2 * MB }));
    expect(deliveries).toHaveLength(0);
    b.add(fetchOf(2, 1, { valueBytes: 1.5 * MB })); // 3 × base64 ≈ 7.3 MB of event: over the cap
    expect(deliveries.map((d) => d.invocations.map(offsets))).toEqual([[['0@0', '1@0']], [['2@0']]]);
  });

  it('takes whole fetches up to batchSize, and leaves the next fetch for the next invocation', () => {
    const { b, deliveries } = batcher(5, 500);
    b.add(fetchOf(0, 3));
    b.add(fetchOf(1, 3)); // 6 ≥ 5: delivered at once, but 3 + 3 > 5: two events
    expect(deliveries.map((d) => d.fetches.map((f) => f.id))).toEqual([['orders-0'], ['orders-1']]);
  });

  it('cuts a fetch larger than batchSize into several invocations, in offset order', () => {
    const { b, deliveries } = batcher(10);
    b.add(fetchOf(0, 25));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.invocations.map((i) => [i.records[0]!.offset, i.records.length, i.oversized])).toEqual([
      [0, 10, false],
      [10, 10, false],
      [20, 5, false],
    ]);
  });

  it('cuts a fetch larger than 6 MB so that no invocation exceeds it, and sends a record over 6 MB alone, marked oversized', () => {
    const { b, deliveries } = batcher(10_000);
    const big = fetchOf(0, 4, { valueBytes: 2 * MB }); // ≈ 2.7 MB of base64 each
    const huge = { topic: 'orders', partition: 0, offset: 4, timestamp: 0, value: Buffer.alloc(MAX_PAYLOAD_BYTES) };
    const after = { topic: 'orders', partition: 0, offset: 5, timestamp: 0, value: 'v' };
    b.add({ ...big, records: [...big.records, huge, after] });
    expect(deliveries[0]!.invocations.map((i) => [offsets(i), i.oversized])).toEqual([
      [['0@0', '0@1'], false],
      [['0@2', '0@3'], false],
      [['0@4'], true],
      [['0@5'], false],
    ]);
  });

  it('sends a fetch of one record over 6 MB as that record alone, and no empty invocation around it', () => {
    const { b, deliveries } = batcher(10);
    b.add({
      id: 'orders-0',
      records: [{ topic: 'orders', partition: 0, offset: 0, timestamp: 0, value: Buffer.alloc(MAX_PAYLOAD_BYTES) }],
      done: () => undefined,
    });
    expect(deliveries[0]!.invocations.map((i) => [offsets(i), i.oversized])).toEqual([[['0@0'], true]]);
  });

  it('puts records that come to exactly 6 MB in one invocation, from one fetch or from two', () => {
    // Two records whose sizes add up to the limit exactly: the second padded with a header name.
    const first = { topic: 'orders', partition: 0, offset: 0, timestamp: 0, value: Buffer.alloc(2 * MB) };
    const second = (partition: number, offset: number) => {
      const r = { topic: 'orders', partition, offset, timestamp: 0, value: Buffer.alloc(MB) };
      return {
        ...r,
        headers: [['h'.repeat(MAX_PAYLOAD_BYTES - encodedSize(first) - encodedSize({ ...r, headers: [['', '']] })), '']] as const,
      };
    };
    expect(encodedSize(first) + encodedSize(second(0, 1))).toBe(MAX_PAYLOAD_BYTES);
    const one = batcher(10, 60_000);
    one.b.add({ id: 'orders-0', records: [first, second(0, 1)], done: () => undefined });
    expect(one.deliveries[0]!.invocations.map(offsets)).toEqual([['0@0', '0@1']]);
    const two = batcher(10, 60_000);
    two.b.add({ id: 'orders-0', records: [first], done: () => undefined });
    two.b.add({ id: 'orders-1', records: [second(1, 0)], done: () => undefined });
    expect(two.deliveries.map((d) => d.invocations.map(offsets))).toEqual([[['0@0', '1@0']]]);
  });

  it('runs one invocation per partition at a time: a partition busy waits, the others go', async () => {
    const { b, deliveries } = batcher(2);
    b.add(fetchOf(0, 2));
    b.add(fetchOf(0, 2, { from: 2 }));
    b.add(fetchOf(1, 2));
    expect(deliveries.map((d) => d.invocations.map(offsets))).toEqual([[['0@0', '0@1']], [['1@0', '1@1']]]);
    deliveries[0]!.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(deliveries.map((d) => d.invocations.map(offsets))).toEqual([[['0@0', '0@1']], [['1@0', '1@1']], [['0@2', '0@3']]]);
  });

  it('gives back what still waits when drained, and delivers none of it later', () => {
    const { b, deliveries } = batcher(10, 500);
    const waiting = fetchOf(0, 3);
    b.add(waiting);
    vi.advanceTimersByTime(300);
    expect(b.drain()).toEqual([expect.objectContaining({ id: 'orders-0', records: waiting.records })]);
    expect(b.drain()).toEqual([]);
    // Its window is gone with it: a fetch added next waits for a whole window of its own.
    b.add(fetchOf(1, 1));
    vi.advanceTimersByTime(499);
    expect(deliveries).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(deliveries.map((d) => d.fetches.map((f) => f.id))).toEqual([['orders-1']]);
  });
});
