import { describe, expect, it } from 'vitest';
import { EmulatorStats, type InvocationReport } from '../../../../local/esm/emulator-stats.js';
import type { DeadLetterEnvelope } from '../../../../src/runtime/envelope.js';

const records = [0, 1, 2, 3].map((offset) => ({ topic: 'orders', partition: 0, offset }));
const deadLetter = (offset: number) => ({ record: { topic: 'orders', partition: 0, offset } }) as DeadLetterEnvelope;
const report = (deadLetters: DeadLetterEnvelope[] = [], retried = 0): InvocationReport => ({ deadLetters, retried });

describe('the emulator counting an invocation that returned', () => {
  it('counts each record processed, or dead-lettered when the runtime wrote it to the DLQ, never both', () => {
    const stats = new EmulatorStats();
    stats.settle(records, new Map(), true, report([deadLetter(2)], 3));
    expect(stats).toMatchObject({ processed: 3, deadLettered: 1, retried: 3, redelivered: 0, lost: 0, decided: 4, duplicates: 0 });
    expect([...stats.outcomes.keys()]).toEqual(['orders-0']);
    expect([0, 1, 2, 3].every((offset) => stats.outcomes.get('orders-0')!.has(offset))).toBe(true);
  });

  it('leaves records from the offset the response names undecided, to be redelivered, and counts those before it', () => {
    const stats = new EmulatorStats();
    stats.settle([...records, { topic: 'orders', partition: 1, offset: 9 }], new Map([['orders-0', 2]]), true, report());
    expect(stats).toMatchObject({ processed: 3, redelivered: 2, lost: 0, decided: 3 });
    expect(stats.outcomes.get('orders-0')!.has(2)).toBe(false);
  });

  // Lambda developer guide, "Configuring partial batch response": without ReportBatchItemFailures
  // the response is ignored and the whole batch is committed.
  it('counts records a mapping without partial responses commits unprocessed as lost, and decided', () => {
    const stats = new EmulatorStats();
    stats.settle(records, new Map([['orders-0', 1]]), false, report());
    expect(stats).toMatchObject({ processed: 1, redelivered: 0, lost: 3, decided: 4 });
  });

  it('counts a record decided twice as a duplicate', () => {
    const stats = new EmulatorStats();
    stats.settle(records.slice(0, 2), new Map(), true, report());
    stats.settle(records.slice(1), new Map(), true, report([], 1));
    expect(stats).toMatchObject({ processed: 5, decided: 4, duplicates: 1, retried: 1 });
  });

  it('decides exactly the offsets each partition ran, across partitions, gaps and dead letters', () => {
    const stats = new EmulatorStats();
    const at = (partition: number, offset: number) => ({ topic: 'orders', partition, offset });
    stats.settle([at(0, 1)], new Map(), true, report());
    stats.settle(
      [at(0, 0), at(0, 1), at(0, 3), at(1, 4), at(1, 5), at(1, 6), at(0, 4)],
      new Map(),
      true,
      report([{ record: at(1, 5) } as DeadLetterEnvelope]),
    );
    const ranges = (id: string) => [...stats.outcomes.get(id)!.ranges()];
    expect(ranges('orders-0')).toEqual([
      [0, 2],
      [3, 5],
    ]);
    expect(ranges('orders-1')).toEqual([[4, 7]]);
    expect(stats).toMatchObject({ processed: 7, deadLettered: 1, decided: 7, duplicates: 1 });
  });
});

// Lambda's OffsetLag metric: the difference between the last record written to a partition and the
// last the mapping committed, summed over partitions.
describe('the emulator offset lag', () => {
  it('sums, for each partition fetched, its high watermark less its committed offset', () => {
    const stats = new EmulatorStats();
    expect(stats.offsetLag).toBe(0);
    stats.fetched('orders-0', 100);
    expect(stats.offsetLag).toBe(100); // nothing committed yet
    stats.fetched('orders-1', 50);
    stats.committed('orders-0', 40);
    stats.committed('orders-1', 45);
    expect(stats.offsetLag).toBe(65);
    stats.committed('orders-0', 100);
    stats.fetched('orders-1', 45);
    expect(stats.offsetLag).toBe(0);
  });

  it('never counts a partition committed past the high watermark it last saw as negative lag', () => {
    const stats = new EmulatorStats();
    stats.fetched('orders-0', 10);
    stats.fetched('orders-1', 10);
    stats.committed('orders-0', 12);
    expect(stats.offsetLag).toBe(10);
  });
});
