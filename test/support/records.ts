import { decodeEvent, recordAt } from '../../src/runtime/event.js';
import type { KafkaRecord } from '../../src/runtime/record.js';
import { buildKafkaEvent, type BrokerRecord } from './kafka-event.js';

/** The runtime's records for broker records of one topic-partition, as a handler would see them. */
export function partitionOf(records: BrokerRecord[]): KafkaRecord[] {
  const partition = decodeEvent(buildKafkaEvent(records)).partitions[0]!;
  return partition.entries.map((entry) => recordAt(partition, entry));
}
