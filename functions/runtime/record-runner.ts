import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { decodeField, type KafkaRecord } from './record';
import { recordAt, type KafkaEventRecord, type PartitionBatch } from './event';
import { sleep, type RetryPolicy } from './retry';
import type { TopicStats } from './telemetry';
import type { OutcomeLedger } from './outcome-ledger';
import type { DeadLetters } from './dead-letters';

export type RecordCall = (record: KafkaRecord<unknown, unknown>, context: Context) => unknown;

type Deserialize = (bytes: Buffer | null, record: KafkaRecord<unknown, unknown>) => unknown;

/** What running records needs from the handler's configuration. */
export interface RecordRunnerConfig {
  readonly retry: RetryPolicy;
  readonly deserializeValue: Deserialize;
  readonly deserializeKey: Deserialize | undefined;
  readonly logger: Logger;
}

/**
 * Runs each record to an outcome within the invocation's time budget: processed,
 * dead-lettered (retries exhausted, or not retryable), or not finished (out of time), in which
 * case its partition is redelivered from it.
 */
export class RecordRunner {
  constructor(
    readonly config: RecordRunnerConfig,
    readonly context: Context,
    readonly ledger: OutcomeLedger,
    readonly deadLetters: DeadLetters,
    /** Epoch ms after which no record or retry starts. */
    readonly deadline: number,
  ) {}

  deserialize(record: KafkaRecord<unknown, unknown>): void {
    const { deserializeValue, deserializeKey } = this.config;
    record.value = deserializeValue(decodeField(record, 'value'), record);
    if (deserializeKey) record.key = deserializeKey(record.rawKey, record);
  }

  /**
   * Runs a partition's records (or one key's) in order; the first one not finished stops the
   * sequence and is reported. Each record is built as it runs: once done, it and its value
   * can be collected while the rest of the batch runs.
   */
  async runInOrder(partition: PartitionBatch, entries: readonly KafkaEventRecord[], call: RecordCall): Promise<void> {
    const stats = this.ledger.topicStats(partition.topic);
    for (const entry of entries) {
      let finished = this.run(recordAt(partition, entry), call, stats);
      if (typeof finished !== 'boolean') finished = await finished;
      if (!finished) {
        this.ledger.redeliverFrom(partition.id, entry.offset);
        return;
      }
    }
  }

  /**
   * True once the record is processed or dead-lettered; false when time ran out. A record
   * whose function returns synchronously costs no promise: most records succeed at once.
   */
  run(record: KafkaRecord<unknown, unknown>, call: RecordCall, stats: TopicStats): boolean | Promise<boolean> {
    if (Date.now() >= this.deadline) return false;
    let result: unknown;
    try {
      result = this.#attempt(record, call);
    } catch (error) {
      return this.#retry(record, call, stats, error);
    }
    if (!(result instanceof Promise)) {
      stats.processed++;
      return true;
    }
    return result.then(
      () => {
        stats.processed++;
        return true;
      },
      (error: unknown) => this.#retry(record, call, stats, error),
    );
  }

  #attempt(record: KafkaRecord<unknown, unknown>, call: RecordCall): unknown {
    this.deserialize(record);
    return call(record, this.context);
  }

  /** After a failed first attempt: the further attempts the retry policy allows. */
  async #retry(record: KafkaRecord<unknown, unknown>, call: RecordCall, stats: TopicStats, firstError: unknown): Promise<boolean> {
    const { retry, logger } = this.config;
    const firstFailureAt = Date.now();
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      if (!retry.shouldRetry(error, attempt)) {
        this.deadLetters.add(record, error, attempt, firstFailureAt);
        return true;
      }
      const delay = retry.delayMs(attempt);
      if (Date.now() + delay >= this.deadline) return false;
      logger.debug('retrying record', { topic: record.topic, partition: record.partition, offset: record.offset, attempt, error: (error as Error)?.message });
      await sleep(delay);
      stats.retried++;
      try {
        await this.#attempt(record, call);
        stats.processed++;
        return true;
      } catch (next) {
        error = next;
      }
    }
  }
}
