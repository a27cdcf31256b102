// Example consumer: order events. For demos and tests, a value's `simulate` field makes
// a record fail: "permanent-failure" on every attempt, "transient-failure" on its first
// attempt only, "downstream-outage" with a connection refused on every attempt (an outage: the
// breaker pauses the mapping). A tombstone (null value) is a valid deletion.
import { kafkaConsumer, type KafkaRecord } from '../../src/runtime/index.js';

export interface OrderEvent {
  readonly id?: string;
  readonly simulate?: 'permanent-failure' | 'transient-failure' | 'downstream-outage';
}

// Records whose first attempt already failed, in this container.
const failedOnce = new Set<string>();

/** The business logic for one order event: what `kafkaConsumer` runs per record. */
export async function processOrder(record: KafkaRecord<OrderEvent | null>): Promise<void> {
  const order = record.value;
  if (order === null) return; // tombstone: the order was deleted
  if (order.simulate === 'permanent-failure') throw new Error(`order ${order.id ?? '?'} cannot be processed (simulated permanent failure)`);
  if (order.simulate === 'downstream-outage')
    throw Object.assign(new Error(`order ${order.id ?? '?'}: the downstream refused the connection (simulated outage)`), {
      code: 'ECONNREFUSED',
    });
  if (order.simulate === 'transient-failure') {
    const id = `${record.partitionKey}@${record.offset}`;
    if (!failedOnce.has(id)) {
      failedOnce.add(id);
      throw new Error(`order ${order.id ?? '?'}: downstream timed out (simulated transient failure)`);
    }
    failedOnce.delete(id);
  }
}

export const handler = kafkaConsumer<OrderEvent | null>({ processRecord: processOrder });
