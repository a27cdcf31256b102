// What the ledger knows a record by, as the ids of the table's items. A record is its mapping's
// group, topic, partition and offset; a replayed copy is the record it copies (the replay's
// x-dlq-original-* headers), so that a copy of a record whose work is done is skipped; with
// `idempotencyLedger({ key })`, a business id the user's function gives.
import { ORIGINAL_OFFSET_HEADER, ORIGINAL_PARTITION_HEADER, ORIGINAL_TOPIC_HEADER } from '../../contract/index.js';
import { mappingConsumerGroupId } from '../consumer-group.js';
import { IdempotencyKeyError, type RecordCoordinates } from '../errors.js';
import type { KafkaEventRecord } from '../event.js';
import type { KafkaRecord } from '../record.js';

/** DynamoDB's limit on a partition key value (docs/aws-contracts.md). */
export const MAX_KEY_BYTES = 2048;

/** Gives a record's business id: records with the same one are the same work. */
export type IdempotencyKeyFunction<V = unknown, K = unknown> = (record: KafkaRecord<V, K>) => string;

/** The table's item ids, for one consumer (its `consumerGroupId`, when it has one). */
export class ItemIds {
  readonly #groups = new Map<string, string>();

  /** Without a consumer group id, the mapping's group is unknown: the table serves one consumer function. */
  constructor(readonly consumerGroupId: string | undefined) {}

  /** The group of a topic's mapping, `<consumerGroupId>-<topic>`, or `*` when none was given. */
  group(topic: string): string {
    let group = this.#groups.get(topic);
    if (group === undefined) {
      group = this.consumerGroupId ? mappingConsumerGroupId(this.consumerGroupId, topic) : '*';
      this.#groups.set(topic, group);
    }
    return group;
  }

  /** The item holding a topic-partition's lease and done offsets. */
  partition(topic: string, partition: number): string {
    return `p|${this.group(topic)}|${topic}|${partition}`;
  }

  /** The item saying one record's work is done (written for replayed copies). */
  record(r: RecordCoordinates): string {
    return `r|${this.group(r.topic)}|${r.topic}|${r.partition}|${r.offset}`;
  }

  /** The item saying a business id's work is done. */
  userKey(key: string): string {
    return `u|${this.consumerGroupId ?? '*'}|${key}`;
  }

  /** The longest business id that still fits a DynamoDB key, in UTF-8 bytes. */
  get maxUserKeyBytes(): number {
    return MAX_KEY_BYTES - Buffer.byteLength(this.userKey(''));
  }
}

/**
 * The record a replayed copy stands for, from the replay's headers; undefined for a record that
 * is not a copy, or whose headers are not numbers the replay writes (then it is known by its own
 * coordinates: run again rather than skipped wrongly). A copy of a replay that did not yet write
 * the topic header came from its own topic.
 */
export function originalOf(entry: KafkaEventRecord, topic: string): RecordCoordinates | undefined {
  const headers = entry.headers;
  if (!headers || headers.length === 0) return undefined;
  let offset: string | undefined;
  let partition: string | undefined;
  let originalTopic: string | undefined;
  for (const header of headers) {
    if (typeof header !== 'object' || header === null) continue;
    // Own keys only: `__proto__` and `toString` are header names like any other.
    for (const [name, bytes] of Object.entries(header)) {
      if (name === ORIGINAL_OFFSET_HEADER) offset ??= text(bytes);
      else if (name === ORIGINAL_PARTITION_HEADER) partition ??= text(bytes);
      else if (name === ORIGINAL_TOPIC_HEADER) originalTopic ??= text(bytes);
    }
  }
  if (offset === undefined || partition === undefined || !/^\d{1,16}$/.test(offset) || !/^\d{1,10}$/.test(partition)) return undefined;
  return { topic: originalTopic || topic, partition: Number(partition), offset: Number(offset) };
}

// Lambda writes header bytes as Java signed bytes: masked to a byte, then read as UTF-8.
const text = (bytes: unknown): string | undefined =>
  Array.isArray(bytes) && bytes.every(Number.isInteger) ? Buffer.from(bytes as number[]).toString('utf8') : undefined;

/**
 * The business id `key` gives a record, or the error that dead-letters it: what was wrong and
 * how to fix it, naming the record by its coordinates and the key by its type and size only.
 */
export function userKeyOf(
  record: KafkaRecord<unknown, unknown>,
  key: IdempotencyKeyFunction,
  maxBytes: number,
): string | IdempotencyKeyError {
  const where = `${record.partitionKey}@${record.offset}`;
  const fix = `idempotencyLedger's key must return a non-empty string of at most ${maxBytes} UTF-8 bytes (a business id) for every record`;
  let value: unknown;
  try {
    value = key(record);
  } catch (error) {
    return new IdempotencyKeyError(`idempotencyLedger's key threw for ${where}; ${fix}.`, { cause: error });
  }
  if (typeof value !== 'string')
    return new IdempotencyKeyError(`idempotencyLedger's key returned ${value === null ? 'null' : typeof value} for ${where}; ${fix}.`);
  if (value === '') return new IdempotencyKeyError(`idempotencyLedger's key returned an empty string for ${where}; ${fix}.`);
  const bytes = Buffer.byteLength(value);
  if (bytes > maxBytes)
    return new IdempotencyKeyError(`idempotencyLedger's key returned a ${bytes}-byte key for ${where}; ${fix}: hash a longer id.`);
  return value;
}
