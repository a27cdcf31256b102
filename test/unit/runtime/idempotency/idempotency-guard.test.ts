// The ledger's decisions over an in-memory table (test/support/fake-ledger-store.ts) and a fake
// clock: which records run, which are skipped as done, when a partition waits for another
// invocation and when it is given up for redelivery, and what reaches the table when.
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeEvent, type PartitionBatch } from '../../../../src/runtime/event.js';
import { IdempotencyKeyError } from '../../../../src/runtime/errors.js';
import { IdempotencyGuard } from '../../../../src/runtime/idempotency/idempotency-guard.js';
import { ItemIds, type IdempotencyKeyFunction } from '../../../../src/runtime/idempotency/record-identity.js';
import { OutcomeLedger } from '../../../../src/runtime/outcome-ledger.js';
import { FakeLedgerStore } from '../../../support/fake-ledger-store.js';
import { buildKafkaEvent, type BrokerRecord } from '../../../support/kafka-event.js';

const T0 = Date.UTC(2026, 0, 1);
beforeEach(() => void vi.useFakeTimers({ now: T0 }));
afterEach(() => void vi.useRealTimers());

const ids = new ItemIds('app');
const records = (n: number, from = 0, partition = 0): BrokerRecord[] =>
  Array.from({ length: n }, (_, i) => ({ topic: 't', partition, offset: from + i, value: JSON.stringify({ n: from + i }) }));

interface Options {
  owner?: string;
  /** The invocation's Lambda deadline, ms from now. */
  leaseMs?: number;
  /** No record (or wait for a lease) starts later than this, ms from now. */
  startByMs?: number;
  key?: IdempotencyKeyFunction;
  flushIntervalMs?: number;
  maxRanges?: number;
}

function invocation(store: FakeLedgerStore, brokerRecords: BrokerRecord[], o: Options = {}) {
  const event = decodeEvent(buildKafkaEvent(brokerRecords));
  const outcomes = new OutcomeLedger(event, Date.now());
  const now = Date.now();
  const logger = new Logger({ logLevel: 'SILENT' });
  const settings = {
    store,
    ids,
    key: o.key,
    expirySeconds: 3_600,
    flushIntervalMs: o.flushIntervalMs ?? 100,
    maxRanges: o.maxRanges ?? 200,
  };
  const leaseMs = o.leaseMs ?? 10_000;
  const times = { leaseUntil: now + leaseMs, startBy: now + (o.startByMs ?? leaseMs - 3_000), writeBy: now + leaseMs - 750 };
  const guard = new IdempotencyGuard(
    settings,
    event,
    o.owner ?? 'a',
    times,
    outcomes,
    logger,
    (r) => void (r.value = JSON.parse(r.rawValue!.toString())),
  );
  const partitions = event.partitions;
  /** Runs what the ledger says to run (all of it done), returns the offsets run. */
  const runAll = async (p: PartitionBatch = partitions[0]!) => {
    if (!(await guard.claimed(p))) return undefined;
    const ran: number[] = [];
    for (const e of p.entries) {
      if (guard.stateOf(p, e) !== 'run') continue;
      ran.push(e.offset);
      guard.markDone(p, e);
    }
    return ran;
  };
  return { guard, partitions, outcomes, logger, runAll, stats: () => outcomes.topicStats('t') };
}

describe('the idempotency guard', () => {
  it('runs every record the first time, and skips them all when the batch comes again', async () => {
    const store = new FakeLedgerStore();
    const first = invocation(store, records(100));
    expect(await first.runAll()).toHaveLength(100);
    await first.guard.finish();
    expect(store.items.get('p|app-t|t|0')).toMatchObject({ done: '0-99' });
    expect(store.items.get('p|app-t|t|0')).not.toHaveProperty('owner'); // let go

    const again = invocation(store, records(150), { owner: 'b' });
    expect(await again.runAll()).toEqual(Array.from({ length: 50 }, (_, i) => 100 + i));
    await again.guard.finish();
    expect(store.items.get('p|app-t|t|0')).toMatchObject({ done: '0-149' });
  });

  it('costs two calls for a 100-record batch of one partition whose records finish within the flush interval', async () => {
    const store = new FakeLedgerStore();
    const { runAll, guard } = invocation(store, records(100));
    await runAll();
    await guard.finish();
    expect(store.calls).toEqual(['claim', 'release']);
  });

  it('writes done offsets in the background, at most one write per interval, so a crash re-runs only the last interval', async () => {
    const store = new FakeLedgerStore();
    const { guard, partitions } = invocation(store, records(10), { flushIntervalMs: 100 });
    const p = partitions[0]!;
    await guard.claimed(p);
    guard.markDone(p, p.entries[0]!);
    guard.markDone(p, p.entries[1]!);
    await vi.advanceTimersByTimeAsync(99);
    expect(store.items.get('p|app-t|t|0')?.done).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(store.items.get('p|app-t|t|0')?.done).toBe('0-1');
    guard.markDone(p, p.entries[2]!);
    await vi.advanceTimersByTimeAsync(99);
    expect(store.calls.filter((c) => c === 'flush')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.items.get('p|app-t|t|0')?.done).toBe('0-2');
    // The invocation dies here; Lambda retries the batch after its deadline: what the table has is what the retry skips.
    await vi.advanceTimersByTimeAsync(10_000);
    const retry = invocation(store, records(10), { owner: 'b' });
    expect(await retry.runAll()).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('waits while a live invocation holds the partition, then skips what it did', async () => {
    const store = new FakeLedgerStore();
    const a = invocation(store, records(5), { owner: 'a' });
    await a.guard.claimed(a.partitions[0]!);
    const b = invocation(store, records(5), { owner: 'b' });
    let bRan: number[] | undefined;
    const bRun = b.runAll().then((ran) => (bRan = ran));
    await vi.advanceTimersByTimeAsync(500);
    expect(bRan).toBeUndefined(); // still waiting
    for (const e of a.partitions[0]!.entries) a.guard.markDone(a.partitions[0]!, e);
    await a.guard.finish();
    await vi.advanceTimersByTimeAsync(1_000);
    await bRun;
    expect(bRan).toEqual([]);
    // It looked with reads (cheaper than failed writes): one claim refused, one granted.
    expect(store.calls.filter((c) => c === 'claim')).toHaveLength(3);
    expect(store.calls.filter((c) => c === 'lease').length).toBeGreaterThan(1);
  });

  it("takes the partition of a crashed invocation after that invocation's deadline, not before", async () => {
    const store = new FakeLedgerStore();
    const crashed = invocation(store, records(3), { owner: 'crashed', leaseMs: 5_000 });
    await crashed.guard.claimed(crashed.partitions[0]!); // and never finishes
    const leaseEnd = T0 + 5_000;
    const next = invocation(store, records(3), { owner: 'next', leaseMs: 60_000 });
    let claimedAt: number | undefined;
    const claim = next.guard.claimed(next.partitions[0]!).then((held) => (held ? (claimedAt = Date.now()) : undefined));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(claimedAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(2_000);
    await claim;
    expect(claimedAt).toBeGreaterThan(leaseEnd);
    expect(claimedAt).toBeLessThanOrEqual(leaseEnd + 1_001);
  });

  it('gives the partition up for redelivery, unrun, when the holder outlasts this invocation', async () => {
    const store = new FakeLedgerStore();
    const holder = invocation(store, records(3), { owner: 'holder', leaseMs: 600_000 });
    await holder.guard.claimed(holder.partitions[0]!);
    const late = invocation(store, records(3), { owner: 'late', leaseMs: 10_000, startByMs: 7_000 });
    const warn = vi.spyOn(late.logger, 'warn');
    const ran = late.runAll();
    await vi.advanceTimersByTimeAsync(7_000);
    expect(await ran).toBeUndefined();
    expect(Date.now()).toBeLessThanOrEqual(T0 + 7_000);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/another invocation still holds/), { partition: 't-0' });
    await late.guard.finish();
    expect(store.items.get('p|app-t|t|0')?.owner).toBe('holder'); // not released by the one that never held it
  });

  it('gives a partition up for redelivery when the table cannot be read, and runs none of it', async () => {
    const store = new FakeLedgerStore();
    store.unreachable = true;
    const { runAll, guard, logger } = invocation(store, records(3));
    const error = vi.spyOn(logger, 'error');
    expect(await runAll()).toBeUndefined();
    expect(error).toHaveBeenCalledWith(expect.stringMatching(/could not be read/), expect.objectContaining({ partition: 't-0' }));
    await guard.finish();
  });

  it('answers normally when the table cannot take the done offsets, and counts the records not recorded', async () => {
    const store = new FakeLedgerStore();
    const { runAll, guard, stats, logger } = invocation(store, records(4));
    const warn = vi.spyOn(logger, 'warn');
    await runAll();
    store.unreachable = true;
    await guard.finish();
    expect(stats().doneNotRecorded).toBe(4);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/could not record done records/),
      expect.objectContaining({ partition: 't-0' }),
    );
  });

  it('counts nothing as not recorded when a failed background write is made good by the last one', async () => {
    const store = new FakeLedgerStore();
    const { guard, partitions, stats } = invocation(store, records(4));
    const p = partitions[0]!;
    await guard.claimed(p);
    guard.markDone(p, p.entries[0]!);
    store.unreachable = true;
    await vi.advanceTimersByTimeAsync(100); // the background write fails
    store.unreachable = false;
    guard.markDone(p, p.entries[1]!);
    await guard.finish();
    expect(stats().doneNotRecorded).toBe(0);
    expect(store.items.get('p|app-t|t|0')?.done).toBe('0-1');
  });

  // TTL deletes expired items typically within 48 hours, not at once (docs/aws-contracts.md §11).
  it('forgets done offsets whose item has expired (TTL deletes late)', async () => {
    const store = new FakeLedgerStore();
    store.items.set('p|app-t|t|0', { done: '0-9', expiresAt: T0 / 1_000 });
    const { runAll } = invocation(store, records(3));
    expect(await runAll()).toEqual([0, 1, 2]);
  });

  it('keeps a dead-lettered record (never marked done) as a hole: it runs again when redelivered', async () => {
    const store = new FakeLedgerStore();
    const first = invocation(store, records(5));
    const p = first.partitions[0]!;
    await first.guard.claimed(p);
    for (const e of p.entries) if (e.offset !== 2) first.guard.markDone(p, e);
    await first.guard.finish();
    expect(store.items.get('p|app-t|t|0')?.done).toBe('0-1,3-4');
    expect(await invocation(store, records(5), { owner: 'b' }).runAll()).toEqual([2]);
  });

  it('skips a replayed copy whose original was done, by a redelivery or by an earlier copy', async () => {
    const store = new FakeLedgerStore();
    const original = invocation(store, records(3, 0, 2));
    await original.runAll();
    await original.guard.finish(); // t-2@0..2 done (say 1 was dead-lettered first, then done by a whole-batch retry)
    const copyOf = (offset: number, at: number): BrokerRecord => ({
      topic: 'replays',
      partition: 0,
      offset: at,
      value: '{}',
      headers: [
        ['x-dlq-original-topic', 't'],
        ['x-dlq-original-partition', '2'],
        ['x-dlq-original-offset', String(offset)],
      ],
    });
    const replay = invocation(store, [copyOf(1, 40), copyOf(7, 41)], { owner: 'r' });
    const p = replay.partitions[0]!;
    expect(await replay.guard.claimed(p)).toBe(true);
    expect(replay.guard.stateOf(p, p.entries[0]!)).toBe('done');
    expect(replay.guard.stateOf(p, p.entries[1]!)).toBe('run');
    replay.guard.markDone(p, p.entries[1]!);
    await replay.guard.finish();
    expect(store.items.has('r|app-t|t|2|7')).toBe(true);
    // The same dead letter replayed again, to yet another place: skipped by the copy's item.
    const twice = invocation(store, [copyOf(7, 3)], { owner: 's' });
    expect(await twice.runAll()).toEqual([]);
    expect(store.calls.filter((c) => c === 'getItems')).toHaveLength(2); // one batched read per invocation
  });

  // A replay killed after producing and run again produces the same copies twice, often into one
  // batch (found with park-key's release: test/e2e/park-key-idempotency.test.ts).
  it('skips the second copy of one record, or a business key done, within the same invocation', async () => {
    const store = new FakeLedgerStore();
    const copyOf = (offset: number, at: number): BrokerRecord => ({
      topic: 't',
      partition: 0,
      offset: at,
      value: '{}',
      headers: [
        ['x-dlq-original-partition', '0'],
        ['x-dlq-original-offset', String(offset)],
      ],
    });
    const copies = invocation(store, [copyOf(1, 10), copyOf(3, 11), copyOf(1, 12), copyOf(3, 13)]);
    expect(await copies.runAll()).toEqual([10, 11]);
    await copies.guard.finish();
    expect(store.items.has('r|app-t|t|0|1') && store.items.has('r|app-t|t|0|3')).toBe(true);
    const key = ((r: { value: unknown }) => (r.value as { id: string }).id) as IdempotencyKeyFunction;
    const keyed = ['a', 'b', 'a'].map((id, offset): BrokerRecord => ({ topic: 't', partition: 1, offset, value: JSON.stringify({ id }) }));
    expect(await invocation(store, keyed, { owner: 'k', key }).runAll()).toEqual([0, 1]);
  });

  it('does not decide a replayed copy when the batched read fails: its partition is redelivered from it', async () => {
    const store = new FakeLedgerStore();
    const getItems = vi.spyOn(store, 'getItems').mockRejectedValue(new Error('throttled for good'));
    const copy: BrokerRecord = {
      topic: 't',
      partition: 0,
      offset: 1,
      value: '{}',
      headers: [
        ['x-dlq-original-partition', '0'],
        ['x-dlq-original-offset', '0'],
      ],
    };
    const { guard, partitions } = invocation(store, [...records(1), copy]);
    const p = partitions[0]!;
    expect(await guard.claimed(p)).toBe(true);
    expect(guard.stateOf(p, p.entries[0]!)).toBe('run');
    expect(guard.stateOf(p, p.entries[1]!)).toBe('unknown');
    expect(getItems).toHaveBeenCalledOnce();
  });

  it('with a business key, skips a record whose key is done whatever its offset, and dead-letters one without a valid key', async () => {
    const store = new FakeLedgerStore();
    const key = (r: { value: unknown }) => (r.value as { id?: string }).id as string;
    const withIds = (list: Array<string | undefined>, from: number): BrokerRecord[] =>
      list.map((id, i) => ({ topic: 't', partition: 0, offset: from + i, value: JSON.stringify(id === undefined ? {} : { id }) }));
    const first = invocation(store, withIds(['a', 'b'], 0), { key: key as IdempotencyKeyFunction });
    await first.runAll();
    await first.guard.finish();
    const second = invocation(store, withIds(['b', 'c', undefined], 10), { owner: 'b', key: key as IdempotencyKeyFunction });
    const p = second.partitions[0]!;
    await second.guard.claimed(p);
    expect(second.guard.stateOf(p, p.entries[0]!)).toBe('done');
    expect(second.guard.stateOf(p, p.entries[1]!)).toBe('run');
    expect(second.guard.stateOf(p, p.entries[2]!)).toBeInstanceOf(IdempotencyKeyError);
  });

  it('keeps at most maxRanges ranges per partition: the oldest holes run again, nothing is skipped wrongly', async () => {
    const store = new FakeLedgerStore();
    const first = invocation(store, records(9), { maxRanges: 2 });
    const p = first.partitions[0]!;
    await first.guard.claimed(p);
    for (const e of p.entries) if (e.offset % 2 === 0) first.guard.markDone(p, e); // 0,2,4,6,8
    await first.guard.finish();
    expect(store.items.get('p|app-t|t|0')?.done).toBe('6,8');
    expect(await invocation(store, records(9), { owner: 'b' }).runAll()).toEqual([0, 1, 2, 3, 4, 5, 7]);
  });
});
