import { buildKafkaEvent, type BrokerRecord } from '../local/esm/lambda-event.js';
import type { Context } from 'aws-lambda';
import type { KafkaEvent } from '../src/runtime/event.js';

export const BENCH_TOPIC = 'orders';

/** An order of about `bytes` bytes of JSON; `fail` marks the records the failure path fails. */
export function orderJson(i: number, bytes = 1_024, fail = false): string {
  const order = {
    id: `o-${i}`,
    customerId: `c-${i % 5_000}`,
    amount: (i % 500) + 1,
    currency: 'EUR',
    createdAt: new Date(1_700_000_000_000 + i * 1_000).toISOString(),
    items: Array.from({ length: 3 }, (_, k) => ({ sku: `sku-${(i + k) % 97}`, quantity: 1 + ((i + k) % 3), price: 9.99 + k })),
    shipping: { street: `${i % 200} Kafka Street`, city: 'Lisbon', postcode: '1000-001', country: 'PT' },
    ...(fail ? { fail: true } : {}),
    note: '',
  };
  const text = JSON.stringify(order);
  return JSON.stringify({ ...order, note: 'x'.repeat(Math.max(0, bytes - text.length)) });
}

export interface OrderOptions {
  /** Every `failEvery`-th record is marked to fail. @default none */
  readonly failEvery?: number;
  /** @default 1024 */
  readonly bytes?: number;
  /** @default 'orders' */
  readonly topic?: string;
}

/** `count` records spread round-robin over `partitions` partitions, every `failEvery`-th one marked to fail. */
export function orderRecords(count: number, partitions: number, options: OrderOptions = {}): BrokerRecord[] {
  const timestamp = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    topic: options.topic ?? BENCH_TOPIC,
    partition: i % partitions,
    offset: Math.floor(i / partitions),
    timestamp,
    key: `order-${i % 1_000}`,
    value: orderJson(i, options.bytes, options.failEvery !== undefined && i % options.failEvery === 0),
  }));
}

/** The Lambda event for those records, as JSON text: each run parses its own copy, as the Lambda runtime does. */
export function orderEventText(count: number, partitions: number, options: OrderOptions = {}): string {
  return JSON.stringify(buildKafkaEvent(orderRecords(count, partitions, options)));
}

/** Every handler a scenario compares: ours and the baselines. */
export type BenchHandler = (event: KafkaEvent, context: Context) => Promise<unknown>;

/** The user function of the throughput scenarios: does nothing with the record. */
export const noop = (_value: unknown): void => undefined;
