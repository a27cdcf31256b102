import type { Kafka } from 'kafkajs';
import type { GroundTruth } from './ground-truth.js';

/** The demo's records: mostly good orders, with failures of every kind mixed in. */
export type DemoKind = 'ok' | 'transient-failure' | 'permanent-failure' | 'not-json' | 'tombstone';

/** Which kind record `i` is: 2% permanent, 3% transient, 1% not JSON, 1% tombstones. */
export function demoKind(i: number): DemoKind {
  const slot = i % 100;
  if (slot < 2) return 'permanent-failure';
  if (slot < 5) return 'transient-failure';
  if (slot < 6) return 'not-json';
  if (slot < 7) return 'tombstone';
  return 'ok';
}

/** The demo's keys: record `i` belongs to `order-<i mod 1,000>`. */
const KEYS = 1_000;
/** The keyed mix's keys: `order-<i mod 200>`, so that a key has 10 records in 2,000. */
export const KEYED_KEYS = 200;

/**
 * The keyed mix of the order-safe failure modes (`npm run chaos -- --failure-mode`): each key's
 * records in one partition (a key's order is per partition), every record parseable (a value that
 * cannot be deserialized can never be corrected), and the permanent failures on a few keys only,
 * one occurrence in three of those keys (records before and after it), so that the other keys
 * are the ones a parked key must never delay.
 */
export function keyedDemoKind(i: number): DemoKind {
  if (failingKey(i % KEYED_KEYS) && Math.floor(i / KEYED_KEYS) % 3 === 1) return 'permanent-failure';
  const kind = demoKind(i);
  return kind === 'not-json' || kind === 'permanent-failure' ? 'ok' : kind;
}

/** Whether key `order-<k>` has records that fail for good in the keyed mix: one key in 50 (4 of 200: 7, 57, 107, 157). */
export function failingKey(k: number): boolean {
  return k % 50 === 7;
}

export function demoRecord(i: number, keyed = false): { key: string; value: string | null } {
  const kind = keyed ? keyedDemoKind(i) : demoKind(i);
  const key = `order-${i % (keyed ? KEYED_KEYS : KEYS)}`;
  if (kind === 'tombstone') return { key, value: null };
  if (kind === 'not-json') return { key, value: `order ${i} <not json>` };
  const order = { id: `o-${i}`, amount: (i % 500) + 1, currency: 'EUR', items: [{ sku: `sku-${i % 97}`, quantity: 1 + (i % 3) }] };
  return { key, value: JSON.stringify(kind === 'ok' ? order : { ...order, simulate: kind }) };
}

const PRODUCE_CHUNK = 1_000;

/**
 * Produces records 0 … `total` − 1 of the demo mix (the keyed one with `keyed`: each key in
 * partition key mod `partitions`), else round-robin over `partitions`, in sends of
 * 1,000 acknowledged by all in-sync replicas, and tells `truth` what the brokers acknowledged.
 * A send that fails is sent again until `retryUntil` (epoch ms) passes, then its error is
 * thrown; copies a failed send may have left are not counted as produced (they prove nothing).
 * @default retryUntil 0: the first failure is thrown
 */
export async function produceDemoRecords(
  kafka: Kafka,
  topic: string,
  partitions: number,
  total: number,
  truth: GroundTruth,
  retryUntil = 0,
  keyed = false,
): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < total; i += PRODUCE_CHUNK) {
      const messages = Array.from({ length: Math.min(PRODUCE_CHUNK, total - i) }, (_, j) => ({
        ...demoRecord(i + j, keyed),
        partition: ((i + j) % (keyed ? KEYED_KEYS : partitions)) % partitions,
      }));
      const counts = new Map<number, number>();
      for (const m of messages) counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
      for (;;) {
        try {
          for (const { partition, baseOffset } of await producer.send({ topic, acks: -1, messages }))
            truth.produced(topic, partition, Number(baseOffset), counts.get(partition)!);
          break;
        } catch (error) {
          if (Date.now() > retryUntil) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }
  } finally {
    await producer.disconnect();
  }
}
