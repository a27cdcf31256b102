import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../functions/runtime/event';
import { WholeBatchRetryError } from '../../functions/runtime/errors';
import { OutcomeLedger } from '../../functions/runtime/outcome-ledger';
import { buildKafkaEvent } from '../../local/esm/lambda-event';

const event = () =>
  decodeEvent(buildKafkaEvent([0, 1, 2, 3].flatMap((offset) => [
    { topic: 'orders', partition: 0, offset, value: '{}' },
    { topic: 'orders', partition: 1, offset, value: '{}' },
  ])));

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
    expect(ledger.stats.get('orders')!.redelivered).toBe(8);
  });
});
