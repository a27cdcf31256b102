import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../../src/runtime/event.js';
import { WholeBatchRetryError } from '../../../src/runtime/errors.js';
import { OutcomeLedger } from '../../../src/runtime/outcome-ledger.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';

const event = () =>
  decodeEvent(
    buildKafkaEvent(
      [0, 1, 2, 3].flatMap((offset) => [
        { topic: 'orders', partition: 0, offset, value: '{}' },
        { topic: 'orders', partition: 1, offset, value: '{}' },
      ]),
    ),
  );

describe('OutcomeLedger', () => {
  // Lambda resumes a partition from the identifier's offset (docs/aws-contracts.md §2): anything below it
  // is committed, so the lowest offset that must come again is the only safe answer.
  it.each([[[2, 0]], [[0, 2]]])('answers the lowest offset reported for a partition, whatever the order (%j)', (offsets) => {
    const ledger = new OutcomeLedger(event(), Date.now());
    for (const offset of offsets) ledger.redeliverFrom('orders-0', offset);
    expect(ledger.response(true)).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'orders-0', offset: 0 } }] });
    expect(ledger.stats.get('orders')!.redelivered).toBe(4);
  });

  it('answers success when nothing is to be redelivered, with partial responses on or off', () => {
    expect(new OutcomeLedger(event(), Date.now()).response(true)).toEqual({ batchItemFailures: [] });
    expect(new OutcomeLedger(event(), Date.now()).response(false)).toEqual({ batchItemFailures: [] });
  });

  // Lambda ignores batchItemFailures when the mapping has ReportBatchItemFailures off and commits
  // the batch (docs/aws-contracts.md §2); only a failed invocation brings the records again.
  it('with partial responses off, fails the invocation naming every partition and offset, and counts the whole batch as redelivered', () => {
    const ledger = new OutcomeLedger(event(), Date.now());
    ledger.redeliverFrom('orders-1', 3);
    ledger.redeliverFrom('orders-0', 1);
    let thrown: unknown;
    try {
      ledger.response(false);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(WholeBatchRetryError);
    expect((thrown as Error).message).toContain('orders-0 from offset 1, orders-1 from offset 3');
    expect((thrown as Error).message).toContain('REPORT_BATCH_ITEM_FAILURES=false');
    expect((thrown as WholeBatchRetryError).redeliveries).toEqual([
      { partition: 'orders-0', offset: 1 },
      { partition: 'orders-1', offset: 3 },
    ]);
    expect(ledger.stats.get('orders')!.redelivered).toBe(8);
  });
});

describe('OutcomeLedger counts', () => {
  it('counts received records, decoded bytes and the age of the oldest first record, per topic', () => {
    const decoded = decodeEvent(
      buildKafkaEvent([
        { topic: 'a', partition: 0, offset: 0, timestamp: 9_000, key: 'kk', value: 'vvv' },
        { topic: 'a', partition: 0, offset: 1, timestamp: 1_000, value: 'v' },
        { topic: 'a', partition: 1, offset: 0, timestamp: 7_000, value: 'vv' },
        { topic: 'b', partition: 0, offset: 0, timestamp: 9_500, value: null },
      ]),
    );
    const ledger = new OutcomeLedger(decoded, 10_000);
    expect(
      Object.fromEntries([...ledger.stats].map(([topic, s]) => [topic, { received: s.received, bytes: s.bytes, age: s.maxRecordAgeMs }])),
    ).toEqual({
      a: { received: 3, bytes: 2 + 3 + 1 + 2, age: 3_000 }, // the age of a partition's first record
      b: { received: 1, bytes: 0, age: 500 },
    });
    expect(ledger.topicStats('a')).toBe(ledger.stats.get('a'));
    expect(ledger.topicStats('c').received).toBe(0);
    expect(ledger.stats.has('c')).toBe(true);
  });

  it("counts as redelivered the records from the identifier's offset on, in each partition reported", () => {
    const ledger = new OutcomeLedger(event(), Date.now());
    ledger.redeliverFrom('orders-0', 2);
    ledger.redeliverFrom('orders-1', 3);
    expect(ledger.response(true)).toEqual({
      batchItemFailures: [
        { itemIdentifier: { partition: 'orders-0', offset: 2 } },
        { itemIdentifier: { partition: 'orders-1', offset: 3 } },
      ],
    });
    expect(ledger.stats.get('orders')!.redelivered).toBe(2 + 1);
  });

  it('keeps the lowest offset when a higher one comes later, and the same one twice', () => {
    const ledger = new OutcomeLedger(event(), Date.now());
    ledger.redeliverFrom('orders-0', 1);
    ledger.redeliverFrom('orders-0', 1);
    ledger.redeliverFrom('orders-0', 3);
    expect(ledger.response(true).batchItemFailures).toEqual([{ itemIdentifier: { partition: 'orders-0', offset: 1 } }]);
  });

  it("with partial responses off, names the setting to turn on and counts every topic's whole batch", () => {
    const decoded = decodeEvent(
      buildKafkaEvent([
        { topic: 'a', partition: 0, offset: 5, value: '{}' },
        { topic: 'b', partition: 0, offset: 0, value: '{}' },
        { topic: 'b', partition: 0, offset: 1, value: '{}' },
      ]),
    );
    const ledger = new OutcomeLedger(decoded, Date.now());
    ledger.redeliverFrom('a-0', 5);
    expect(() => ledger.response(false)).toThrow(
      'Records of a-0 from offset 5 must be delivered again, but this mapping has partial batch responses off (REPORT_BATCH_ITEM_FAILURES=false), so Lambda would commit them: failing the invocation so that the whole batch is retried. Turn partial batch responses on (provisioned mode) to redeliver only these.',
    );
    expect([ledger.stats.get('a')!.redelivered, ledger.stats.get('b')!.redelivered]).toEqual([1, 2]);
  });
});
