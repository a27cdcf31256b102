import { InvalidEventError } from './errors';
import { KafkaRecord, type EventHeaders, type SchemaMetadata, type TimestampType } from './record';

/** A record as the Kafka event source mapping delivers it (see CONTRACTS §1). */
export interface KafkaEventRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  timestampType: TimestampType;
  key?: string | null;
  /** base64; with a schema registry in JSON mode it may already be a JSON value. */
  value?: unknown;
  headers?: EventHeaders;
  keySchemaMetadata?: SchemaMetadata;
  valueSchemaMetadata?: SchemaMetadata;
}

/** The event Lambda receives from an MSK (`aws:kafka`) or self-managed (`SelfManagedKafka`) mapping. */
export interface KafkaEvent {
  eventSource: 'aws:kafka' | 'SelfManagedKafka';
  eventSourceArn?: string;
  bootstrapServers?: string;
  records: Record<string, KafkaEventRecord[]>;
}

/** The records of one topic-partition, in offset order. */
export interface PartitionBatch {
  /** `"<topic>-<partition>"`, the key of `records` and of the partial batch response. */
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly records: KafkaRecord[];
  /** Bytes of its keys and values, decoded. */
  readonly byteCount: number;
}

export interface DecodedEvent {
  readonly eventSource: KafkaEvent['eventSource'];
  readonly eventSourceArn?: string;
  readonly bootstrapServers?: string;
  readonly partitions: PartitionBatch[];
}

const EVENT_SOURCES = new Set(['aws:kafka', 'SelfManagedKafka']);
const TIMESTAMP_TYPES = new Set(['CREATE_TIME', 'LOG_APPEND_TIME', 'NO_TIMESTAMP_TYPE']);

function fail(message: string): never {
  throw new InvalidEventError(`Invalid Kafka event: ${message}`);
}

// Base64 as Lambda writes it is padded; Node's decoder skips characters it does not
// know, so a decoded length other than the expected one means the text was not base64.
function decodeBase64(text: string, where: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.length % 4 !== 0 || bytes.length !== (text.length / 4) * 3 - padding) {
    fail(`${where} is not valid base64 (${text.length} characters starting "${text.slice(0, 16)}").`);
  }
  return bytes;
}

/**
 * Validates a Kafka event and decodes it into per-partition record lists. Throws
 * {@link InvalidEventError} naming the first field that is wrong.
 */
export function decodeEvent(event: unknown): DecodedEvent {
  if (typeof event !== 'object' || event === null) fail(`expected an object, got ${event === null ? 'null' : typeof event}.`);
  const e = event as Partial<KafkaEvent>;
  if (!EVENT_SOURCES.has(e.eventSource as string)) {
    fail(`eventSource is ${JSON.stringify(e.eventSource)}; this handler takes events from a Kafka event source mapping ("aws:kafka" or "SelfManagedKafka").`);
  }
  if (typeof e.records !== 'object' || e.records === null || Array.isArray(e.records)) {
    fail('"records" must be an object keyed "<topic>-<partition>".');
  }
  const partitions: PartitionBatch[] = [];
  for (const [id, list] of Object.entries(e.records)) {
    if (!Array.isArray(list)) fail(`records["${id}"] must be an array of records.`);
    if (list.length === 0) continue;
    const first = list[0] as KafkaEventRecord;
    const topic = first?.topic;
    const partition = first?.partition;
    if (typeof topic !== 'string' || !Number.isInteger(partition) || id !== `${topic}-${partition}`) {
      fail(`records["${id}"][0] has topic ${JSON.stringify(topic)} and partition ${JSON.stringify(partition)}, which do not match the key "${id}".`);
    }
    const records: KafkaRecord[] = new Array(list.length);
    let byteCount = 0;
    for (let i = 0; i < list.length; i++) {
      const r = list[i] as KafkaEventRecord;
      const where = `records["${id}"][${i}]`;
      if (typeof r !== 'object' || r === null) fail(`${where} must be an object.`);
      if (r.topic !== topic || r.partition !== partition) fail(`${where} belongs to ${r.topic}-${r.partition}, not ${id}.`);
      if (!Number.isSafeInteger(r.offset) || r.offset < 0) fail(`${where}.offset must be a non-negative integer, got ${JSON.stringify(r.offset)}.`);
      if (typeof r.timestamp !== 'number') fail(`${where}.timestamp must be a number (epoch ms), got ${JSON.stringify(r.timestamp)}.`);
      if (!TIMESTAMP_TYPES.has(r.timestampType)) fail(`${where}.timestampType must be CREATE_TIME or LOG_APPEND_TIME, got ${JSON.stringify(r.timestampType)}.`);
      const key = r.key ?? null;
      if (key !== null && typeof key !== 'string') fail(`${where}.key must be a base64 string or null, got ${typeof key}.`);
      let encodedValue: string | null;
      let rawValue: Buffer | null;
      if (r.value === undefined || r.value === null) {
        encodedValue = null;
        rawValue = null;
      } else if (typeof r.value === 'string') {
        encodedValue = r.value;
        rawValue = decodeBase64(r.value, `${where}.value`);
      } else {
        // Schema registry in JSON mode: the value arrives as JSON already.
        rawValue = Buffer.from(JSON.stringify(r.value));
        encodedValue = rawValue.toString('base64');
      }
      const rawKey = key === null ? null : decodeBase64(key, `${where}.key`);
      const headers = r.headers ?? [];
      if (!Array.isArray(headers)) fail(`${where}.headers must be an array of {name: [bytes]} objects.`);
      records[i] = new KafkaRecord(
        topic, partition, r.offset, r.timestamp, r.timestampType, rawKey, rawValue, key, encodedValue, headers,
        r.keySchemaMetadata, r.valueSchemaMetadata,
      );
      byteCount += (rawKey?.length ?? 0) + (rawValue?.length ?? 0);
    }
    partitions.push({ id, topic, partition, records, byteCount });
  }
  return {
    eventSource: e.eventSource!,
    ...(e.eventSourceArn !== undefined ? { eventSourceArn: e.eventSourceArn } : {}),
    ...(e.bootstrapServers !== undefined ? { bootstrapServers: e.bootstrapServers } : {}),
    partitions,
  };
}
