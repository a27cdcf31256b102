import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { decodeField, type KafkaRecord } from './record.js';
import { recordAt, type KafkaEventRecord, type PartitionBatch } from './event.js';
import { sleep, type RetryPolicy } from './retry.js';
import type { TopicStats } from './telemetry.js';
import type { OutcomeLedger } from './outcome-ledger.js';
import type { DeadLetters } from './dead-letters.js';
import { describeError } from '../contract/errors.js';
import { REPLAY_COUNT_HEADER } from '../contract/index.js';
import type { InvocationGuard } from './idempotency/ledger.js';
import type { OutageDetector } from './outage.js';
import type { InvocationParking } from './parking/parking.js';
import type { PartitionBlocks } from './partition-blocks.js';
import type { InvocationTrace } from './tracing.js';

export type RecordCall = (record: KafkaRecord<unknown, unknown>, context: Context) => unknown;

type Deserialize = (bytes: Buffer | null, record: KafkaRecord<unknown, unknown>) => unknown;

/** What running records needs from the handler's configuration. */
export interface RecordRunnerConfig {
  readonly retry: RetryPolicy;
  readonly deserializeValue: Deserialize;
  readonly deserializeKey: Deserialize | undefined;
  readonly logger: Logger;
}

/** What one invocation gives its runner (see {@link RecordRunner.begin}). */
export interface Invocation {
  readonly context: Context;
  readonly ledger: OutcomeLedger;
  readonly deadLetters: DeadLetters;
  /** Epoch ms after which no record or retry starts. */
  readonly deadline: number;
  readonly guard?: InvocationGuard | undefined;
  readonly outage?: OutageDetector | undefined;
  readonly blocks?: PartitionBlocks | undefined;
  readonly parking?: InvocationParking | undefined;
  /** The invocation's spans; undefined when tracing is off (no SDK registered, or `tracing: false`). */
  readonly tracing?: InvocationTrace | undefined;
}

/**
 * Runs each record to an outcome within the invocation's time budget: processed,
 * dead-lettered (retries exhausted, or not retryable), or not finished (out of time, or an
 * outage seen), in which case its partition is redelivered from it.
 *
 * A runner serves one invocation at a time, from {@link begin} to {@link end}, and the handler
 * keeps it for the next one. It outlives invocations on purpose, and so do the last record and
 * stats it used: V8 drops an object layout (map) once no object has it, and with it the
 * optimized code of every function that read such objects. With a runner, stats and records
 * that all died with their invocation, a full garbage collection between two invocations sent
 * the whole record path back to the interpreter (the handler went from 0.83× to 0.96× the
 * bare decode loop in `npm run bench`).
 */
export class RecordRunner {
  // The invocation's, from begin() to end().
  #context: Context | undefined;
  #ledger: OutcomeLedger | undefined;
  #deadLetters: DeadLetters | undefined;
  #guard: InvocationGuard | undefined;
  #outage: OutageDetector | undefined;
  #parking: InvocationParking | undefined;
  #blocks: PartitionBlocks | undefined;
  #tracing: InvocationTrace | undefined;
  /** Epoch ms after which no record or retry starts. */
  #deadline = 0;
  /* eslint-disable no-unused-private-class-members -- never read: kept so that their layouts live on (see above) */
  #lastRecord: KafkaRecord<unknown, unknown> | undefined;
  #lastStats: TopicStats | undefined;
  /* eslint-enable no-unused-private-class-members */

  constructor(readonly config: RecordRunnerConfig) {}

  /**
   * Starts an invocation: no record or retry starts after `deadline` (epoch ms); with a `guard`
   * (the idempotency ledger), records whose work is done are skipped; with an `outage` detector,
   * a record whose attempts end in an outage is redelivered, and once it trips no record or retry
   * starts; with `blocks` (failureMode 'block'), a record that fails for good is held: its
   * partition is redelivered from it and no later record of the partition starts; with `parking`
   * (failureMode 'park-key'), records of parked keys are held and failed ones park their key; with
   * `tracing`, each record it takes up has a span (the call it is given is traced: see tracing.ts;
   * the loop below is the same with tracing on or off, and costs nothing more when it is off).
   */
  begin(invocation: Invocation): void {
    this.#context = invocation.context;
    this.#ledger = invocation.ledger;
    this.#deadLetters = invocation.deadLetters;
    this.#deadline = invocation.deadline;
    this.#guard = invocation.guard;
    this.#outage = invocation.outage;
    this.#blocks = invocation.blocks;
    this.#parking = invocation.parking;
    this.#tracing = invocation.tracing;
  }

  /** Ends the invocation: lets go of its event, dead letters and ledger. */
  end(): void {
    this.#context = this.#ledger = this.#deadLetters = undefined;
    this.#guard = this.#outage = this.#blocks = this.#parking = this.#tracing = undefined;
  }

  deserialize(record: KafkaRecord<unknown, unknown>): void {
    const { deserializeValue, deserializeKey } = this.config;
    record.value = deserializeValue(decodeField(record, 'value'), record);
    if (deserializeKey) record.key = deserializeKey(record.rawKey, record);
  }

  /**
   * Runs a partition's records (or one key's) in order; the first one not finished (out of
   * time, or after an outage) stops the sequence and is reported. Each record is built as it runs: once done, it and
   * its value can be collected while the rest of the batch runs. A function that returns
   * synchronously costs no promise, and one that returns a promise one await: most records
   * succeed at the first attempt. With the idempotency ledger, the partition's lease comes first
   * (or the partition is redelivered unrun), and each record is asked about before it runs.
   */
  async runInOrder(partition: PartitionBatch, entries: readonly KafkaEventRecord[], call: RecordCall, stats: TopicStats): Promise<void> {
    this.#lastStats = stats;
    const guard = this.#guard;
    const parking = this.#parking;
    if ((guard && !(await guard.claimed(partition))) || (parking && !(await parking.ready()))) {
      this.#ledger!.redeliverFrom(partition.id, entries[0]!.offset);
      return;
    }
    for (const entry of entries) {
      // With ordering 'key' another key of the partition may have blocked it before this record.
      if (Date.now() >= this.#deadline || this.#outage?.tripped || this.#blocks?.blocks(partition.id, entry.offset)) {
        this.#ledger!.redeliverFrom(partition.id, entry.offset);
        return;
      }
      if (guard) {
        const state = guard.stateOf(partition, entry);
        if (state === 'done') {
          stats.skippedAsDone++;
          this.#tracing?.notRun(recordAt(partition, entry), 'skipped-as-done');
          continue;
        }
        if (state === 'unknown') {
          this.#ledger!.redeliverFrom(partition.id, entry.offset);
          return;
        }
        if (state !== 'run') {
          // No valid business key: dead-lettered unrun, the error saying why (held, in block mode).
          const record = recordAt(partition, entry);
          this.#tracing?.startRecord(record);
          if (await this.#deadLetter(partition, entry, record, state, 1, Date.now())) continue;
          this.#ledger!.redeliverFrom(partition.id, entry.offset);
          return;
        }
      }
      if (parking?.stateOf(partition, entry) === 'hold') {
        if (await this.#hold(parking, partition, entry)) continue;
        this.#ledger!.redeliverFrom(partition.id, entry.offset);
        return;
      }
      const record = (this.#lastRecord = recordAt(partition, entry));
      try {
        const result = this.#attempt(record, call);
        if (isPromiseLike(result)) await result;
        stats.processed++;
        this.#outage?.succeeded();
        guard?.markDone(partition, entry);
      } catch (error) {
        const outcome = await this.#retry(partition, entry, record, call, stats, error);
        if (outcome === UNFINISHED) {
          this.#ledger!.redeliverFrom(partition.id, entry.offset);
          this.#tracing?.end(record, 'redelivered');
          return;
        }
        if (outcome === PROCESSED) guard?.markDone(partition, entry);
      }
    }
  }

  /** Holds a record of a parked key (park-key): false when it could not be. */
  async #hold(parking: InvocationParking, partition: PartitionBatch, entry: KafkaEventRecord): Promise<boolean> {
    const tracing = this.#tracing;
    if (!tracing) return parking.hold(partition, entry);
    const record = recordAt(partition, entry);
    tracing.startRecord(record);
    const held = await parking.hold(partition, entry, tracing.deadLetterTrace(record));
    tracing.end(record, held ? 'parked' : 'redelivered');
    return held;
  }

  #attempt(record: KafkaRecord<unknown, unknown>, call: RecordCall): unknown {
    this.deserialize(record);
    return call(record, this.#context!);
  }

  /**
   * A record that failed for good: dead-lettered (and its key parked, in park-key mode); false when
   * it is held instead, its partition redelivered from it (block mode, or a key that could not be parked now).
   */
  #deadLetter(
    partition: PartitionBatch,
    entry: KafkaEventRecord,
    record: KafkaRecord<unknown, unknown>,
    error: unknown,
    attempts: number,
    firstFailureAt: number,
  ): boolean | Promise<boolean> {
    const tracing = this.#tracing;
    if (this.#blocks) {
      this.#blocks.hold(record, error, attempts);
      tracing?.end(record, 'blocked', error);
      return false;
    }
    const trace = tracing?.deadLetterTrace(record);
    if (this.#parking) {
      const parked = this.#parking.deadLetter(partition, entry, record, error, attempts, firstFailureAt, trace);
      if (!tracing) return parked;
      return parked.then((done) => {
        tracing.end(record, done ? 'dead-lettered' : 'redelivered', error);
        return done;
      });
    }
    this.#deadLetters!.add(record, error, attempts, firstFailureAt, undefined, trace);
    tracing?.end(record, 'dead-lettered', error);
    return true;
  }

  /** After a failed first attempt: the further attempts the retry policy allows. */
  async #retry(
    partition: PartitionBatch,
    entry: KafkaEventRecord,
    record: KafkaRecord<unknown, unknown>,
    call: RecordCall,
    stats: TopicStats,
    firstError: unknown,
  ): Promise<Outcome> {
    const { retry, logger } = this.config;
    const firstFailureAt = Date.now();
    let error = firstError;
    const outage = this.#outage;
    for (let attempt = 1; ; attempt++) {
      this.#tracing?.attemptFailed(record, error);
      // After an outage no further attempt starts: the record is redelivered, not dead-lettered.
      if (outage?.tripped) return UNFINISHED;
      if (!retry.shouldRetry(error, attempt)) {
        if (outage?.exhausted(error, retry.isRetryable(error) && !isReplayedDeadLetter(record))) return UNFINISHED;
        return (await this.#deadLetter(partition, entry, record, error, attempt, firstFailureAt)) ? DEAD_LETTERED : UNFINISHED;
      }
      const delay = retry.delayMs(attempt);
      if (Date.now() + delay >= this.#deadline) return UNFINISHED;
      logger.debug('retrying record', {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        attempt,
        errorType: describeError(error).type,
      });
      await sleep(delay);
      stats.retried++;
      try {
        await this.#attempt(record, call);
        stats.processed++;
        outage?.succeeded();
        return PROCESSED;
      } catch (next) {
        error = next;
      }
    }
  }
}

/** What became of a record in this invocation; UNFINISHED (out of time, an outage, held by block): redelivered. */
const PROCESSED = 0;
const DEAD_LETTERED = 1;
const UNFINISHED = 2;
type Outcome = typeof PROCESSED | typeof DEAD_LETTERED | typeof UNFINISHED;

/** A copy the replay put back (`x-dlq-replay-count`); headers that cannot be decoded say no. */
function isReplayedDeadLetter(record: KafkaRecord<unknown, unknown>): boolean {
  try {
    return record.headers.get(REPLAY_COUNT_HEADER) !== undefined;
  } catch {
    return false;
  }
}

/** A promise or any other thenable a function may return: awaited, so that its failure counts. */
function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
