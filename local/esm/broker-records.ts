import type { KafkaMessage } from 'kafkajs';
import { headersInOrder } from '../../src/kafka/kafka-headers.js';
import type { BrokerRecord } from './lambda-event.js';

// The records the emulator holds between kafkajs's fetch and Lambda's event.

// Headers in record order, as Lambda's event keeps them. A null header value (Kafka allows
// one; how Lambda encodes it is not documented) becomes an empty one.
export function toBrokerRecord(topic: string, partition: number, m: KafkaMessage): BrokerRecord {
  const ordered = headersInOrder(m);
  const headers = ordered.length === 0 ? NO_HEADERS : ordered.map(({ key, value }) => [key, value ?? Buffer.alloc(0)] as const);
  return { topic, partition, offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key, value: m.value, headers };
}
const NO_HEADERS: BrokerRecord['headers'] = Object.freeze([]);

/** Each partition's first offset among `records`: where to redeliver them all from. */
export function firstOffsets(records: BrokerRecord[]): Map<string, number> {
  const first = new Map<string, number>();
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    if (!first.has(id)) first.set(id, r.offset);
  }
  return first;
}
