import { DeserializationError, InvalidEventError } from './errors.js';

/** One Kafka header. The same name may appear more than once; order is kept. */
export interface KafkaHeader {
  readonly name: string;
  readonly value: Buffer;
}

/** A record's headers, in order, duplicates kept, with lookup by name. */
export class RecordHeaders implements Iterable<KafkaHeader> {
  constructor(readonly all: readonly KafkaHeader[]) {}

  /** The first header with this name, or undefined. */
  get(name: string): Buffer | undefined {
    return this.all.find((h) => h.name === name)?.value;
  }

  /** The first header with this name as UTF-8 text, or undefined. */
  getString(name: string): string | undefined {
    return this.get(name)?.toString('utf8');
  }

  /** Every header with this name, in order. */
  getAll(name: string): Buffer[] {
    return this.all.filter((h) => h.name === name).map((h) => h.value);
  }

  get size(): number {
    return this.all.length;
  }

  [Symbol.iterator](): Iterator<KafkaHeader> {
    return this.all[Symbol.iterator]();
  }
}

export type TimestampType = 'CREATE_TIME' | 'LOG_APPEND_TIME';

/** The raw headers as Lambda delivers them: single-entry objects of byte arrays. */
export type EventHeaders = ReadonlyArray<Readonly<Record<string, readonly number[]>>>;

/**
 * A record's key or value bytes, decoded afresh from the event's base64 and not kept (the
 * runtime deserializes from these, so only the deserialized value stays in memory).
 * Strict: Lambda pads what it writes, and Node's decoder skips characters it does not know,
 * so a decoded length other than the expected one means the text was not base64 (unpadded
 * text, whose length is not a multiple of 4, has a fractional expected length).
 * @throws DeserializationError when it is not base64
 */
export function decodeField(record: KafkaRecord<unknown, unknown>, field: 'key' | 'value'): Buffer | null {
  const text = field === 'key' ? record.encodedKey : record.encodedValue;
  if (text === null) return null;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== base64ByteLength(text)) {
    // Its length only: the text is the record's content, which stays out of errors and logs.
    throw new DeserializationError(
      `The ${field} of ${record.partitionKey}@${record.offset} is not valid base64 (${text.length} characters).`,
      { field, record },
    );
  }
  return bytes;
}

/** The byte length of padded base64 text, without decoding it. */
export function base64ByteLength(text: string): number {
  const end = text.length;
  const padding = text.charCodeAt(end - 1) !== 61 ? 0 : text.charCodeAt(end - 2) !== 61 ? 1 : 2; // '='
  return (end / 4) * 3 - padding;
}

/**
 * A record's headers decoded afresh from the event, as it arrived (dead letters carry these, not
 * the decoded ones user code may have changed). Lambda writes header bytes as Java signed bytes
 * (-128..127), an S3 on-failure object too, so -128..255 are taken and masked to a byte.
 * @throws InvalidEventError naming the record and the header when one is not `{name: [bytes]}`
 */
export function eventHeaderList(record: KafkaRecord<unknown, unknown>): KafkaHeader[] {
  const list: KafkaHeader[] = [];
  const headers = record.eventHeaders;
  for (let i = 0; i < headers.length; i++) {
    const entry = headers[i];
    if (typeof entry !== 'object' || entry === null) throw invalidHeader(record, i, 'is not a {name: [bytes]} object');
    // Object.entries: own keys only, so names like `__proto__` or `toString` are headers like any other.
    for (const [name, bytes] of Object.entries(entry)) {
      if (!Array.isArray(bytes) || !bytes.every(isEventByte))
        throw invalidHeader(record, i, `(${name.length} characters long) is not a list of bytes from -128 to 255`);
      list.push({ name, value: Buffer.from(bytes) }); // Buffer.from masks each number with 0xff
    }
  }
  return list;
}

const isEventByte = (b: unknown) => Number.isInteger(b) && (b as number) >= -128 && (b as number) <= 255;

function invalidHeader(record: KafkaRecord<unknown, unknown>, index: number, what: string): InvalidEventError {
  return new InvalidEventError(
    `Invalid Kafka event: header ${index} of ${record.partitionKey}@${record.offset} ${what}; Lambda sends each header as {"<name>": [bytes]}.`,
  );
}

const NOT_DESERIALIZED: unique symbol = Symbol('not deserialized');

/**
 * A Kafka record. `value` (and `key`, when a key deserializer is set) hold the deserialized
 * data; `rawValue` / `rawKey` the bytes as they came off the topic, decoded on first use.
 */
export class KafkaRecord<V = unknown, K = Buffer | null> {
  /** Set by the runtime before user code sees the record. */
  value: V = undefined as V;
  // Fields, not private `#` ones, and assigned rather than defined (tsconfig): a record is
  // built for every message, and that keeps its construction at a fraction of the cost.
  // `value` is assigned here too, so that setting it later does not change the record's shape.
  private deserializedKey: K | typeof NOT_DESERIALIZED = NOT_DESERIALIZED;
  private decodedKey: Buffer | null | undefined;
  private decodedValue: Buffer | null | undefined;
  private decodedHeaders: RecordHeaders | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly timestampType: TimestampType,
    /** The key and value as base64, as the event carried them (kept for dead letters). */
    readonly encodedKey: string | null,
    readonly encodedValue: string | null,
    readonly eventHeaders: EventHeaders,
    /** Schema registry metadata, when the mapping has a schema registry configured. */
    readonly keySchemaMetadata?: SchemaMetadata,
    readonly valueSchemaMetadata?: SchemaMetadata,
  ) {}

  /**
   * The key bytes, or null.
   * @throws DeserializationError when the event's key is not base64
   */
  get rawKey(): Buffer | null {
    return this.decodedKey === undefined ? (this.decodedKey = decodeField(this, 'key')) : this.decodedKey;
  }

  /**
   * The value bytes; null for a tombstone.
   * @throws DeserializationError when the event's value is not base64
   */
  get rawValue(): Buffer | null {
    return this.decodedValue === undefined ? (this.decodedValue = decodeField(this, 'value')) : this.decodedValue;
  }

  /** The deserialized key; without a key deserializer, the key's bytes ({@link rawKey}). */
  get key(): K {
    return this.deserializedKey === NOT_DESERIALIZED ? (this.rawKey as K) : this.deserializedKey;
  }

  set key(key: K) {
    this.deserializedKey = key;
  }

  /**
   * Headers in order, duplicates kept. Decoded on first use.
   * @throws InvalidEventError when the event's headers are not `{name: [bytes]}` objects
   */
  get headers(): RecordHeaders {
    return (this.decodedHeaders ??= new RecordHeaders(eventHeaderList(this)));
  }

  /** The `"<topic>-<partition>"` key Lambda uses for this record's partition. */
  get partitionKey(): string {
    return `${this.topic}-${this.partition}`;
  }
}

export interface SchemaMetadata {
  readonly dataFormat?: string;
  readonly schemaId?: string;
}
