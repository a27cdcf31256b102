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
 * A decoded Kafka record. `value` (and `key`, when a key deserializer is set) hold the
 * deserialized data; `rawValue` / `rawKey` the bytes as they came off the topic.
 */
export class KafkaRecord<V = unknown, K = Buffer | null> {
  /** Set by the runtime before user code sees the record. */
  value!: V;
  key!: K;
  #headers: RecordHeaders | undefined;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly timestampType: TimestampType,
    /** The key bytes, or null. */
    readonly rawKey: Buffer | null,
    /** The value bytes; null for a tombstone. */
    readonly rawValue: Buffer | null,
    /** The key and value as base64, as the event carried them (kept for dead letters). */
    readonly encodedKey: string | null,
    readonly encodedValue: string | null,
    readonly eventHeaders: EventHeaders,
    /** Schema registry metadata, when the mapping has a schema registry configured. */
    readonly keySchemaMetadata?: SchemaMetadata,
    readonly valueSchemaMetadata?: SchemaMetadata,
  ) {}

  /** Headers in order, duplicates kept. Decoded on first use. */
  get headers(): RecordHeaders {
    return (this.#headers ??= new RecordHeaders(
      this.eventHeaders.flatMap((entry) => Object.entries(entry).map(([name, bytes]) => ({ name, value: Buffer.from(bytes) }))),
    ));
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
