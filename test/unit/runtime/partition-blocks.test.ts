// PartitionBlocks keeps, per partition, the lowest offset that failed for good: with ordering
// 'key' a partition's keys fail in any order, and Lambda resumes the partition from one offset
// (the partial batch response names one per partition, docs/aws-contracts.md §2).
import { describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { PartitionBlocks } from '../../../src/runtime/partition-blocks.js';
import { OutcomeLedger } from '../../../src/runtime/outcome-ledger.js';
import { decodeEvent } from '../../../src/runtime/event.js';
import { NonRetryableError } from '../../../src/runtime/errors.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';

const at = (partition: number, offset: number) => ({ topic: 'orders', partition, offset, partitionKey: `orders-${partition}` });

describe('PartitionBlocks', () => {
  it('keeps the lowest blocked offset per partition, whatever order the failures come in', () => {
    const blocks = new PartitionBlocks();
    blocks.hold(at(0, 5), new Error('x'), 3);
    blocks.hold(at(0, 3), new NonRetryableError('y'), 1);
    blocks.hold(at(0, 7), new Error('z'), 3);
    blocks.hold(at(1, 2), new Error('w'), 3);
    expect(blocks.blocks('orders-0', 2)).toBe(false);
    expect(blocks.blocks('orders-0', 3)).toBe(true);
    expect(blocks.blocks('orders-0', 4)).toBe(true);
    expect(blocks.blocks('orders-2', 100)).toBe(false);
    const ledger = new OutcomeLedger(decodeEvent(buildKafkaEvent([{ topic: 'orders', partition: 0, offset: 3, value: '1' }])), Date.now());
    const logger = new Logger({ logLevel: 'SILENT' });
    expect(blocks.report(ledger, logger)).toEqual([
      { topic: 'orders', partition: 0, offset: 3, errorType: 'NonRetryableError', attempts: 1 },
      { topic: 'orders', partition: 1, offset: 2, errorType: 'Error', attempts: 3 },
    ]);
    expect(ledger.topicStats('orders').blocked).toBe(2);
  });
});
