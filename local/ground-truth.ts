// What really happened to every produced record, observed outside the runtime: each delivery
// of it to the function (at the emulator's invocations), the user function's own completions
// (its effect), and the dead-letter queue's contents at the end.
// Kept per partition as offset ranges, so a million records in order cost a few ranges.
import { channel, subscribe, unsubscribe } from 'node:diagnostics_channel';
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ORIGINAL_OFFSET_HEADER, ORIGINAL_PARTITION_HEADER, ORIGINAL_TOPIC_HEADER } from '../src/contract/index.js';
import type { DeadLetterEnvelope, DeadLetterPointer } from '../src/runtime/envelope.js';
import { readDeadLetterQueue } from './dead-letter-queue-read.js';
import type { KafkaEvent } from '../src/runtime/event.js';
import { OffsetRanges } from '../src/runtime/offset-ranges.js';
import { DownstreamOutageError } from './errors.js';

interface Coordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** A record the user function finished: its identity, its key, and whether it was a replayed copy. */
interface Completion extends Coordinates {
  readonly key: string;
  readonly replayed: boolean;
}

interface HeaderSource {
  getString(name: string): string | undefined;
}

/**
 * Each record the user function finished, as its original {@link Coordinates}. A channel, so
 * that a function running in a sandbox worker reports through the sandbox's forwarding.
 */
export const RECORD_FINISHED_CHANNEL = 'local:record-finished';
const recordFinished = channel(RECORD_FINISHED_CHANNEL);

/**
 * A record's identity: its original topic, partition and offset. A replayed copy carries the
 * original's coordinates in headers (the replay's marker; the topic only since the replay
 * could target another), so it counts as the record it was copied from.
 */
export function originalCoordinates(record: Coordinates, headers: HeaderSource): Coordinates {
  const partition = headers.getString(ORIGINAL_PARTITION_HEADER);
  const offset = headers.getString(ORIGINAL_OFFSET_HEADER);
  return partition !== undefined && offset !== undefined
    ? { topic: headers.getString(ORIGINAL_TOPIC_HEADER) ?? record.topic, partition: Number(partition), offset: Number(offset) }
    : { topic: record.topic, partition: record.partition, offset: record.offset };
}

/** The same for a record of a Lambda event (header values are byte arrays, possibly Java's signed bytes). */
function eventRecordCoordinates(record: KafkaEvent['records'][string][number]): Coordinates {
  const getString = (name: string) => {
    const bytes = record.headers?.find((h) => name in h)?.[name];
    return bytes ? Buffer.from(bytes.map((b) => b & 0xff)).toString() : undefined;
  };
  return originalCoordinates(record, { getString });
}

/** The same for a dead letter (an envelope's headers are base64; a pointer has none). */
export function deadLetterCoordinates(letter: DeadLetterEnvelope | DeadLetterPointer): Coordinates {
  const headers = 'headers' in letter.record ? letter.record.headers : [];
  const get = (name: string) => {
    const h = headers.find((x) => x.name === name);
    return h ? Buffer.from(h.value, 'base64').toString() : undefined;
  };
  return originalCoordinates(letter.record, { getString: get });
}

/** A key as the ordering check compares keys: bytes as latin1 (one character per byte), none as ''. */
function keyText(key: unknown): string {
  if (key == null) return '';
  return Buffer.isBuffer(key) ? key.toString('latin1') : String(key);
}

/**
 * Wraps the user function: a record counts as processed once the function returned for it.
 * Reports on {@link RECORD_FINISHED_CHANNEL}, wherever it runs.
 */
export function recording<R extends Coordinates & { headers: HeaderSource; key?: unknown }, A extends unknown[]>(
  fn: (record: R, ...rest: A) => unknown,
) {
  return async (record: R, ...rest: A) => {
    await fn(record, ...rest);
    if (!recordFinished.hasSubscribers) return;
    const original = originalCoordinates(record, record.headers);
    const replayed = original.offset !== record.offset || original.partition !== record.partition || original.topic !== record.topic;
    recordFinished.publish({ ...original, key: keyText(record.key), replayed } satisfies Completion);
  };
}

export interface GroundTruthSummary {
  produced: number;
  /** Distinct records the user function finished. */
  processed: number;
  /** Distinct records whose dead letter is in the queue. */
  deadLettered: number;
  /** Produced, and neither processed nor dead-lettered. */
  lost: number;
  /** Records delivered to the function more than once (redeliveries, retried batches, replays). */
  duplicates: number;
  /** Records whose effect (the user function finishing them) happened more than once. */
  duplicateEffects: number;
  /** The most times one record was finished. */
  maxProcessedTimes: number;
  /**
   * Distinct records dead-lettered with a {@link DownstreamOutageError} (what the outage breaker is
   * there to prevent), in the queue before the replay ({@link GroundTruth.readOutageDeadLetters}) or at the end.
   */
  outageDeadLetters: number;
  /**
   * Records the function first finished after a later record of the same key and partition had
   * been finished (replayed copies left out, a replay comes after by design; see {@link OrderScope}).
   */
  outOfOrder: number;
  /** Records of keys `cleanKey` names whose first completion was a replayed copy (they had been parked or dead-lettered). */
  delayedCleanKeys: number;
  /** The first of those, as topic-partition@offset key: what their dead letter said (error type, parked epoch), when one was read. */
  delayedCleanRecords?: string[];
  /** The first lost records, as topic-partition@offset. */
  lostRecords: string[];
}

/**
 * What `outOfOrder` compares first completions within: `key` (replayed copies left out, as in
 * 'dead-letter' mode), `key-with-replays` (a replayed copy counting as its original, by its
 * original offset: 'park-key', whose replay restores order), or `partition` ('block').
 */
export type OrderScope = 'key' | 'key-with-replays' | 'partition';

export interface GroundTruthOptions {
  /** @default 'key' */
  readonly order?: OrderScope;
  /** Keys without records that fail for good (counted by `delayedCleanKeys`). @default none */
  readonly cleanKey?: (key: string) => boolean;
}

/** One partition's records: ranges for the common case, maps only for records seen twice or more. */
class PartitionTruth {
  readonly produced = new OffsetRanges();
  readonly delivered = new OffsetRanges();
  readonly processed = new OffsetRanges();
  readonly deadLettered = new OffsetRanges();
  readonly outageDeadLettered = new OffsetRanges();
  /** offset → the error type of its dead letter(s) read (and `parked <epoch>`), for the delayed clean keys' account. */
  readonly deadLetterErrors = new Map<number, string>();
  /** offset → key, for records of clean keys first finished as replayed copies. */
  readonly delayedClean = new Map<number, string>();
  /** key → the highest offset of it finished so far (first completions, replays left out). */
  readonly lastFinishedByKey = new Map<string, number>();
  /** Offsets first finished after a later offset of their key. */
  readonly outOfOrder = new Set<number>();
  /** offset → times delivered, for records delivered more than once. */
  readonly redeliveries = new Map<number, number>();
  /** offset → times finished, for records finished more than once. */
  readonly repeats = new Map<number, number>();
}

export class GroundTruth {
  readonly #partitions = new Map<string, PartitionTruth>();
  readonly #onFinished = (message: unknown) => this.processed(message as Completion);
  readonly #options: GroundTruthOptions;

  /** Starts listening for finished records, in this thread and (forwarded) in sandboxes. */
  constructor(options: GroundTruthOptions = {}) {
    this.#options = options;
    subscribe(RECORD_FINISHED_CHANNEL, this.#onFinished);
  }

  close(): void {
    unsubscribe(RECORD_FINISHED_CHANNEL, this.#onFinished);
  }

  #partition(topic: string, partition: number): PartitionTruth {
    const id = `${topic}-${partition}`;
    let p = this.#partitions.get(id);
    if (!p) this.#partitions.set(id, (p = new PartitionTruth()));
    return p;
  }

  produced(topic: string, partition: number, firstOffset: number, count: number): void {
    this.#partition(topic, partition).produced.addRange(firstOffset, firstOffset + count);
  }

  /**
   * Wraps the function the emulator invokes: each record of each invocation counts as delivered
   * before the function runs, so whatever the runtime then does with it (run it, skip it as
   * already done) does not change the count.
   */
  delivering<A extends unknown[]>(handler: (event: unknown, ...rest: A) => Promise<unknown>) {
    return (event: unknown, ...rest: A): Promise<unknown> => {
      for (const records of Object.values((event as KafkaEvent).records))
        for (const r of records) this.delivered(eventRecordCoordinates(r));
      return handler(event, ...rest);
    };
  }

  delivered({ topic, partition, offset }: Coordinates): void {
    const p = this.#partition(topic, partition);
    if (!p.delivered.add(offset)) p.redeliveries.set(offset, (p.redeliveries.get(offset) ?? 1) + 1);
  }

  processed({ topic, partition, offset, key, replayed }: Completion): void {
    const p = this.#partition(topic, partition);
    if (!p.processed.add(offset)) {
      p.repeats.set(offset, (p.repeats.get(offset) ?? 1) + 1);
      return;
    }
    if (replayed && this.#options.cleanKey?.(key)) p.delayedClean.set(offset, key);
    const order = this.#options.order ?? 'key';
    if (replayed && order === 'key') return;
    const scope = order === 'partition' ? '' : key;
    const last = p.lastFinishedByKey.get(scope);
    if (last !== undefined && last > offset) p.outOfOrder.add(offset);
    else p.lastFinishedByKey.set(scope, offset);
  }

  /** Each partition's produced and processed (distinct) records so far. */
  partitionCounts(): Map<string, { produced: number; processed: number }> {
    const counts = new Map<string, { produced: number; processed: number }>();
    for (const [id, p] of this.#partitions)
      counts.set(id, { produced: p.produced.size, processed: this.#count(p, (offset) => p.processed.has(offset)) });
    return counts;
  }

  deadLettered(letter: DeadLetterEnvelope | DeadLetterPointer): void {
    const { topic, partition, offset } = deadLetterCoordinates(letter);
    this.#partition(topic, partition).deadLettered.add(offset);
    this.#seenDeadLetter(letter);
  }

  /** Notes a dead letter's error (and counts it when it is an outage's), wherever it was read. */
  #seenDeadLetter(letter: DeadLetterEnvelope | DeadLetterPointer): void {
    const { topic, partition, offset } = deadLetterCoordinates(letter);
    const p = this.#partition(topic, partition);
    const parked = 'parked' in letter && letter.parked ? ` parked ${letter.parked.epoch}` : '';
    const seen = p.deadLetterErrors.get(offset);
    const error = `${letter.error.type}${parked}`;
    if (!seen?.split(', ').includes(error)) p.deadLetterErrors.set(offset, seen ? `${seen}, ${error}` : error);
    if (letter.error.type === DownstreamOutageError.name) p.outageDeadLettered.add(offset);
  }

  /**
   * Reads the dead-letter queue to its end and counts `topic`'s dead letters (the queue may be
   * shared: other messages are left uncounted). Each message is received once, then hidden for
   * a minute, so none is counted twice.
   */
  async readDeadLetters(sqs: SQSClient, queueUrl: string, topic: string): Promise<void> {
    await readDeadLetterQueue(sqs, queueUrl, topic, (letter) => this.deadLettered(letter));
  }

  /**
   * Reads the dead-letter queue before a replay takes its letters away, and counts only `topic`'s
   * outage dead letters (the replay would hide that they ever were dead letters); every message is
   * made visible again, for the replay.
   */
  async readOutageDeadLetters(sqs: SQSClient, queueUrl: string, topic: string): Promise<void> {
    const received = await readDeadLetterQueue(sqs, queueUrl, topic, (letter) => this.#seenDeadLetter(letter));
    for (let i = 0; i < received.length; i += 10) {
      const entries = received.slice(i, i + 10).map((ReceiptHandle, n) => ({ Id: String(n), ReceiptHandle, VisibilityTimeout: 0 }));
      await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
  }

  /** Distinct records the user function finished so far (for progress; cheap). */
  get finished(): number {
    let n = 0;
    for (const p of this.#partitions.values()) n += p.processed.size;
    return n;
  }

  /** Produced records not yet processed or dead-lettered: the first `limit`, and how many in all. */
  missing(limit = 20): { count: number; first: string[] } {
    const first: string[] = [];
    let count = 0;
    for (const [id, p] of this.#partitions) {
      count += this.#count(p, (offset) => {
        if (p.processed.has(offset) || p.deadLettered.has(offset)) return false;
        if (first.length < limit) first.push(`${id}@${offset}`);
        return true;
      });
    }
    return { count, first };
  }

  summary(): GroundTruthSummary {
    let produced = 0;
    let processed = 0;
    let deadLettered = 0;
    let duplicates = 0;
    let duplicateEffects = 0;
    let maxProcessedTimes = 0;
    let outageDeadLetters = 0;
    let outOfOrder = 0;
    const delayedClean: string[] = [];
    for (const [id, p] of this.#partitions) {
      for (const [offset, key] of p.delayedClean)
        delayedClean.push(`${id}@${offset} ${key}: ${p.deadLetterErrors.get(offset) ?? 'no dead letter read'}`);
      produced += p.produced.size;
      processed += this.#count(p, (offset) => p.processed.has(offset));
      deadLettered += this.#count(p, (offset) => p.deadLettered.has(offset));
      outageDeadLetters += this.#count(p, (offset) => p.outageDeadLettered.has(offset));
      for (const offset of p.outOfOrder) if (p.produced.has(offset)) outOfOrder++;
      if (p.processed.size > 0) maxProcessedTimes = Math.max(maxProcessedTimes, 1);
      for (const offset of p.redeliveries.keys()) if (p.produced.has(offset)) duplicates++;
      for (const [offset, times] of p.repeats) {
        if (!p.produced.has(offset)) continue;
        duplicateEffects++;
        maxProcessedTimes = Math.max(maxProcessedTimes, times);
      }
    }
    const missing = this.missing();
    return {
      produced,
      processed,
      deadLettered,
      lost: missing.count,
      duplicates,
      duplicateEffects,
      maxProcessedTimes,
      outageDeadLetters,
      outOfOrder,
      delayedCleanKeys: delayedClean.length,
      ...(delayedClean.length > 0 ? { delayedCleanRecords: delayedClean.slice(0, 40) } : {}),
      lostRecords: missing.first,
    };
  }

  /** How many produced offsets of a partition satisfy `test`. */
  #count(p: PartitionTruth, test: (offset: number) => boolean): number {
    let n = 0;
    for (const [start, end] of p.produced.ranges()) for (let offset = start; offset < end; offset++) if (test(offset)) n++;
    return n;
  }
}
