import type { KafkaEvent, KafkaEventRecord } from '../../src/runtime/event.js';
import type { BrokerRecord, EventSource } from '../../local/esm/lambda-event.js';

export type { BrokerRecord, EventSource };

// The Lambda event for Kafka records, built for the runtime's tests straight from AWS's
// description of it (docs/aws-contracts.md §1; https://docs.aws.amazon.com/lambda/latest/dg/with-msk.html),
// not with the emulator's encoder (local/esm/lambda-event.ts): a mistake there must not hide
// the same mistake in the runtime. Header bytes are written as Lambda writes them, Java signed
// bytes (-128..127), which the emulator does not do.

const EXAMPLE_CLUSTER_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1234';
const bytes = (v: Buffer | string) => (typeof v === 'string' ? Buffer.from(v) : v);
const base64 = (v: Buffer | string | null | undefined) => (v === null || v === undefined ? null : bytes(v).toString('base64'));

/** The event Lambda sends for `records`: keyed `topic-partition`, each key's records in the order given. */
export function buildKafkaEvent(records: Iterable<BrokerRecord>, source: EventSource = {}): KafkaEvent {
  const byPartition: Record<string, KafkaEventRecord[]> = {};
  for (const r of records) {
    const entry: KafkaEventRecord = {
      topic: r.topic,
      partition: r.partition,
      offset: r.offset,
      timestamp: r.timestamp ?? Date.now(),
      timestampType: r.timestampType ?? 'CREATE_TIME',
      key: base64(r.key),
      value: base64(r.value),
      headers: (r.headers ?? []).map(([name, value]) => ({ [name]: [...new Int8Array(bytes(value))] })),
    };
    (byPartition[`${r.topic}-${r.partition}`] ??= []).push(entry);
  }
  const eventSource = source.eventSource ?? 'aws:kafka';
  return {
    eventSource,
    ...(eventSource === 'aws:kafka' ? { eventSourceArn: source.eventSourceArn ?? EXAMPLE_CLUSTER_ARN } : {}),
    bootstrapServers: source.bootstrapServers ?? '127.0.0.1:9092',
    records: byPartition,
  };
}
