// Example consumer: order events. For demos and tests, a value's `simulate` field makes
// a record fail: "permanent-failure" on every attempt, "transient-failure" on its first
// attempt only. A tombstone (null value) is a valid deletion.
import { kafkaConsumer } from '../runtime';

export interface OrderEvent {
  readonly id?: string;
  readonly simulate?: 'permanent-failure' | 'transient-failure';
}

// Records whose first attempt already failed, in this container.
const failedOnce = new Set<string>();

export const handler = kafkaConsumer<OrderEvent | null>({
  processRecord: async (record) => {
    const order = record.value;
    if (order === null) return; // tombstone: the order was deleted
    if (order.simulate === 'permanent-failure') throw new Error(`order ${order.id ?? '?'} cannot be processed (simulated permanent failure)`);
    if (order.simulate === 'transient-failure') {
      const id = `${record.partitionKey}@${record.offset}`;
      if (!failedOnce.has(id)) {
        failedOnce.add(id);
        throw new Error(`order ${order.id ?? '?'}: downstream timed out (simulated transient failure)`);
      }
      failedOnce.delete(id);
    }
  },
});
