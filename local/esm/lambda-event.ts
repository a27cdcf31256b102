import type { KafkaEvent, KafkaEventRecord } from '../../src/runtime/event.js';

/** A record as a broker hands it over, before Lambda encodes it. */
export interface BrokerRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** @default now */
  readonly timestamp?: number;
  readonly timestampType?: 'CREATE_TIME' | 'LOG_APPEND_TIME';
  readonly key?: Buffer | string | null;
  readonly value?: Buffer | string | null;
  /** In order; a name may repeat. */
  readonly headers?: ReadonlyArray<readonly [string, Buffer | string]>;
}

export interface EventSource {
  /** `aws:kafka` (MSK, with an ARN) or `SelfManagedKafka`. @default 'aws:kafka' */
  readonly eventSource?: KafkaEvent['eventSource'];
  /** @default a demo cluster ARN for MSK, none for self-managed */
  readonly eventSourceArn?: string;
  /** @default '127.0.0.1:9092' */
  readonly bootstrapServers?: string;
}

/** The cluster ARN of events (and of the local mapping) when none is given. */
export const DEMO_CLUSTER_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/local/00000000-0000-0000-0000-000000000000-1';
const toBuffer = (v: Buffer | string) => (typeof v === 'string' ? Buffer.from(v) : v);

/** Encodes one record exactly as the Kafka event source mapping does (docs/aws-contracts.md §1). */
function encodeRecord(r: BrokerRecord): KafkaEventRecord {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp ?? Date.now(),
    timestampType: r.timestampType ?? 'CREATE_TIME',
    key: r.key == null ? null : toBuffer(r.key).toString('base64'),
    value: r.value == null ? null : toBuffer(r.value).toString('base64'),
    headers: r.headers?.length ? r.headers.map(([name, value]) => ({ [name]: [...toBuffer(value)] })) : [],
  };
}

/** Builds the event Lambda would receive for these records, grouped by topic-partition in order. */
export function buildKafkaEvent(records: Iterable<BrokerRecord>, source: EventSource = {}): KafkaEvent {
  const eventSource = source.eventSource ?? 'aws:kafka';
  const grouped: Record<string, KafkaEventRecord[]> = {};
  const idOf = partitionIds();
  for (const r of records) (grouped[idOf(r)] ??= []).push(encodeRecord(r));
  return {
    eventSource,
    ...(eventSource === 'aws:kafka' ? { eventSourceArn: source.eventSourceArn ?? DEMO_CLUSTER_ARN } : {}),
    bootstrapServers: source.bootstrapServers ?? '127.0.0.1:9092',
    records: grouped,
  };
}

/**
 * A function giving each record's `topic-partition`. Records come in runs of one partition, so
 * it builds the string once per run, not once per record.
 */
export function partitionIds(): (record: Pick<BrokerRecord, 'topic' | 'partition'>) => string {
  let topic: string | undefined;
  let partition = -1;
  let id = '';
  return (r) => {
    if (r.partition !== partition || r.topic !== topic) {
      ({ topic, partition } = r);
      id = `${topic}-${partition}`;
    }
    return id;
  };
}

/**
 * What a record adds to the event's JSON, counted rather than serialized, as this runs for every
 * record fetched. Header bytes count as 4 characters ("255,"), so the figure is an upper bound
 * and the 6 MB cap holds.
 */
export function encodedSize(r: BrokerRecord): number {
  let headers = 2;
  if (r.headers) for (const [name, value] of r.headers) headers += name.length + 8 + 4 * Buffer.byteLength(value);
  return 124 + r.topic.length + String(r.partition).length + String(r.offset).length + base64Size(r.key) + base64Size(r.value) + headers;
}

/** A field's size in the event: base64 in quotes, or `null`. */
function base64Size(b: Buffer | string | null | undefined): number {
  return b == null ? 4 : Math.ceil(Buffer.byteLength(b) / 3) * 4 + 2;
}
