import { InvalidEventError } from './errors.js';
import { KafkaRecord, base64ByteLength, type EventHeaders, type SchemaMetadata, type TimestampType } from './record.js';

/** A record as the Kafka event source mapping delivers it (see docs/aws-contracts.md §1). */
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

/**
 * The records of one topic-partition, in offset order: validated, but turned into
 * {@link KafkaRecord}s only when they run (`recordAt`), so that a processed record and its
 * value can be collected at once instead of living as long as the invocation.
 */
export interface PartitionBatch {
  /** `"<topic>-<partition>"`, the key of `records` and of the partial batch response. */
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  /** The event's records, validated. */
  readonly entries: readonly KafkaEventRecord[];
  /** Bytes of its keys and values, decoded. */
  readonly byteCount: number;
}

/** The runtime's record for one validated entry of a partition. */
export function recordAt(p: PartitionBatch, r: KafkaEventRecord): KafkaRecord {
  let value: string | null;
  if (r.value === undefined || r.value === null) value = null;
  else if (typeof r.value === 'string') value = r.value;
  else value = Buffer.from(jsonText(r.value)).toString('base64'); // schema registry in JSON mode: JSON already
  return new KafkaRecord(
    p.topic,
    p.partition,
    r.offset,
    r.timestamp,
    r.timestampType,
    r.key ?? null,
    value,
    r.headers ?? NO_HEADERS,
    r.keySchemaMetadata,
    r.valueSchemaMetadata,
  );
}

/**
 * A JSON value of the event (schema registry in JSON mode) as text. JSON.stringify recurses and
 * throws a RangeError on a value nested a few thousand levels deep, which the event's own
 * (iterative) parser took: such a value is written out with an explicit stack instead, the same
 * text, so that its record runs, and fails or is dead-lettered, like any other.
 */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return deepJsonText(value);
  }
}

// Parsed JSON only (objects, arrays, strings, numbers, booleans, null), as JSON.stringify writes it.
function deepJsonText(root: unknown): string {
  let text = '';
  const todo: Array<{ value: unknown } | string> = [{ value: root }];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (typeof next === 'string') {
      text += next;
      continue;
    }
    const { value } = next;
    if (typeof value !== 'object' || value === null) {
      text += JSON.stringify(value);
      continue;
    }
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((v, i) => [i, v] as const) : Object.entries(value);
    todo.push(isArray ? ']' : '}');
    for (let i = entries.length - 1; i >= 0; i--) {
      const [name, v] = entries[i]!;
      todo.push({ value: v });
      todo.push(`${i > 0 ? ',' : ''}${isArray ? '' : `${JSON.stringify(name)}:`}`);
    }
    todo.push(isArray ? '[' : '{');
  }
  return text;
}

export interface DecodedEvent {
  readonly eventSource: KafkaEvent['eventSource'];
  readonly eventSourceArn?: string;
  readonly bootstrapServers?: string;
  readonly partitions: PartitionBatch[];
}

const EVENT_SOURCES = new Set(['aws:kafka', 'SelfManagedKafka']);
// Compared rather than looked up in a Set: the event's strings are not interned, so a Set
// would hash every record's timestampType.
const isTimestampType = (t: unknown) => t === 'CREATE_TIME' || t === 'LOG_APPEND_TIME' || t === 'NO_TIMESTAMP_TYPE';
const NO_HEADERS: EventHeaders = Object.freeze([]);

function fail(message: string): never {
  throw new InvalidEventError(`Invalid Kafka event: ${message}`);
}

// Where a record is, for error messages; spelled out only on an error, as this runs per record.
const at = (id: string, i: number) => `records["${id}"][${i}]`;

/**
 * Validates a Kafka event and decodes it into per-partition record lists. Throws
 * {@link InvalidEventError} naming the first field that is wrong. Keys and values are
 * decoded when first read, so one that is not base64 fails its record (dead-lettered with a
 * DeserializationError), not the whole event.
 */
export function decodeEvent(event: unknown): DecodedEvent {
  if (typeof event !== 'object' || event === null) fail(`expected an object, got ${event === null ? 'null' : typeof event}.`);
  const e = event as Partial<KafkaEvent>;
  if (!EVENT_SOURCES.has(e.eventSource as string)) {
    fail(
      `eventSource is ${JSON.stringify(e.eventSource)}; this handler takes events from a Kafka event source mapping ("aws:kafka" or "SelfManagedKafka").`,
    );
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
      fail(
        `records["${id}"][0] has topic ${JSON.stringify(topic)} and partition ${JSON.stringify(partition)}, which do not match the key "${id}".`,
      );
    }
    let byteCount = 0;
    for (let i = 0; i < list.length; i++) {
      const r = list[i] as KafkaEventRecord;
      if (typeof r !== 'object' || r === null) fail(`${at(id, i)} must be an object.`);
      if (r.topic !== topic || r.partition !== partition) fail(`${at(id, i)} belongs to ${r.topic}-${r.partition}, not ${id}.`);
      if (!Number.isSafeInteger(r.offset) || r.offset < 0)
        fail(`${at(id, i)}.offset must be a non-negative integer, got ${JSON.stringify(r.offset)}.`);
      if (typeof r.timestamp !== 'number') fail(`${at(id, i)}.timestamp must be a number (epoch ms), got ${JSON.stringify(r.timestamp)}.`);
      if (!isTimestampType(r.timestampType))
        fail(`${at(id, i)}.timestampType must be CREATE_TIME or LOG_APPEND_TIME, got ${JSON.stringify(r.timestampType)}.`);
      const key = r.key ?? null;
      if (key !== null && typeof key !== 'string') fail(`${at(id, i)}.key must be a base64 string or null, got ${typeof key}.`);
      if (r.headers !== undefined && r.headers !== null && !Array.isArray(r.headers))
        fail(`${at(id, i)}.headers must be an array of {name: [bytes]} objects.`);
      byteCount +=
        (key === null ? 0 : base64ByteLength(key)) +
        (typeof r.value === 'string' ? base64ByteLength(r.value) : r.value == null ? 0 : Buffer.byteLength(jsonText(r.value)));
    }
    partitions.push({ id, topic, partition, entries: list as KafkaEventRecord[], byteCount });
  }
  return {
    eventSource: e.eventSource!,
    ...(e.eventSourceArn !== undefined ? { eventSourceArn: e.eventSourceArn } : {}),
    ...(e.bootstrapServers !== undefined ? { bootstrapServers: e.bootstrapServers } : {}),
    partitions,
  };
}
