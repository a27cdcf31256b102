import type { Context } from 'aws-lambda';
import { decodeEvent, type DecodedEvent, type PartitionBatch } from './event';
import { decodeField, type KafkaRecord } from './record';
import { resolveDeserializer, type Deserializer } from './deserializers';
import { RetryPolicy, sleep, type RetryOptions } from './retry';
import { buildEnvelope, type DeadLetterEnvelope } from './envelope';
import { DeadLetterWriter, type DeadLetterTransport } from './dead-letter-writer';
import { ConfigurationError } from './errors';
import { Telemetry, TopicStats, type TelemetryOptions } from './telemetry';

/** The Kafka partial batch response (CONTRACTS §2): at most one identifier per partition. */
export interface KafkaBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: { partition: string; offset: number } }>;
}

export interface KafkaConsumerOptions<V = unknown, K = Buffer | null> {
  /** Business logic for one record. Throw to fail it. Give this or `processBatch`. */
  readonly processRecord?: (record: KafkaRecord<V, K>, context: Context) => unknown;
  /**
   * Business logic for all the records of an invocation at once (one database write, say).
   * When it throws, the runtime falls back to calling it with one record at a time, in
   * order, to isolate the records that fail. Give this or `processRecord`.
   */
  readonly processBatch?: (records: KafkaRecord<V, K>[], context: Context) => unknown;
  /** How values are deserialized. A value that cannot be is dead-lettered without retries. @default 'json' */
  readonly deserializer?: Deserializer<V>;
  /** How keys are deserialized. @default none: `record.key` is the key's Buffer (or null) */
  readonly keyDeserializer?: Deserializer<K>;
  /** Retries of a failing record within the invocation. @default 3 attempts, 100 ms to 2 s, full jitter */
  readonly retry?: RetryOptions;
  /**
   * `partition`: strictly in offset order within a topic-partition, partitions in parallel.
   * `key`: records with the same key in order, different keys of a partition in parallel.
   * @default 'partition'
   */
  readonly ordering?: 'partition' | 'key';
  /** Partitions (or keys) processed at once. @default 16 */
  readonly concurrency?: number;
  /**
   * Time kept back before the Lambda deadline to flush dead letters and answer; no record or
   * retry starts after it. At most half the time the invocation has. @default 3000 ms
   */
  readonly timeSafetyMarginMs?: number;
  /** The SQS dead-letter queue. @default `DLQ_URL` */
  readonly deadLetterQueueUrl?: string;
  /** The bucket for dead letters over SQS's 1 MiB. @default `DLQ_BUCKET` */
  readonly deadLetterBucket?: string;
  /** Recorded in dead letters. @default `KAFKA_CONSUMER_GROUP` */
  readonly consumerGroup?: string;
  /** Metrics namespace and service name. */
  readonly telemetry?: TelemetryOptions;
  /** Log record keys and values on failures. @default false */
  readonly logRecordContents?: boolean;
  /** Where dead letters are written. @default SQS and S3 through the AWS SDK */
  readonly deadLetterTransport?: DeadLetterTransport;
}

/** Dead letters detailed in an invocation's log line; the queue has them all. */
const LOGGED_DEAD_LETTERS = 20;

type RecordCall = (record: KafkaRecord<unknown, unknown>, context: Context) => unknown;

/** Validated options, shared by every invocation of a handler. */
class ProcessorConfig {
  readonly retry: RetryPolicy;
  readonly deserializeValue;
  readonly deserializeKey;
  readonly telemetry: Telemetry;
  readonly consumerGroup: string | undefined;

  constructor(readonly options: KafkaConsumerOptions<unknown, unknown>) {
    if (!options.processRecord === !options.processBatch) {
      throw new ConfigurationError('kafkaConsumer needs exactly one of processRecord or processBatch.');
    }
    if (options.ordering && options.ordering !== 'partition' && options.ordering !== 'key') {
      throw new ConfigurationError(`ordering must be 'partition' or 'key', got "${options.ordering}".`);
    }
    const concurrency = options.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new ConfigurationError(`concurrency must be a whole number ≥ 1, got ${concurrency}.`);
    this.retry = new RetryPolicy(options.retry);
    this.deserializeValue = resolveDeserializer(options.deserializer ?? 'json', 'value');
    this.deserializeKey = options.keyDeserializer ? resolveDeserializer(options.keyDeserializer, 'key') : undefined;
    this.telemetry = new Telemetry(options.telemetry);
    this.consumerGroup = options.consumerGroup ?? process.env.KAFKA_CONSUMER_GROUP;
  }
}

/** One invocation: its deadline, its per-topic counts, the partitions it must report. */
class Invocation {
  readonly #unfinished = new Map<string, number>();
  readonly #deadLetterLog: Array<Record<string, unknown>> = [];
  readonly stats = new Map<string, TopicStats>();
  readonly deadline: number;
  readonly flushDeadline: number;
  #writer: DeadLetterWriter | undefined;

  constructor(
    readonly config: ProcessorConfig,
    readonly event: DecodedEvent,
    readonly context: Context,
    started: number,
  ) {
    const remaining = context.getRemainingTimeInMillis();
    const margin = Math.min(config.options.timeSafetyMarginMs ?? 3_000, remaining / 2);
    this.deadline = started + remaining - margin;
    this.flushDeadline = started + remaining - margin / 4;
    for (const p of event.partitions) {
      const s = this.topicStats(p.topic);
      s.received += p.records.length;
      s.bytes += p.byteCount;
      s.maxRecordAgeMs = Math.max(s.maxRecordAgeMs, started - (p.records[0]?.timestamp ?? started));
    }
  }

  topicStats(topic: string): TopicStats {
    let s = this.stats.get(topic);
    if (!s) this.stats.set(topic, (s = new TopicStats()));
    return s;
  }

  /** The partition must be redelivered from `offset` (the lowest such offset wins). */
  redeliverFrom(partitionId: string, offset: number): void {
    const current = this.#unfinished.get(partitionId);
    if (current === undefined || offset < current) this.#unfinished.set(partitionId, offset);
  }

  deserialize(record: KafkaRecord<unknown, unknown>): void {
    const { deserializeValue, deserializeKey } = this.config;
    record.value = deserializeValue(decodeField(record, 'value'), record);
    if (deserializeKey) record.key = deserializeKey(record.rawKey, record);
  }

  /**
   * Runs one record to an end: processed, dead-lettered (retries exhausted or not
   * retryable), or not finished (false: out of time) and so to be redelivered. A record
   * whose function returns synchronously costs no promise: most records succeed at once.
   */
  run(record: KafkaRecord<unknown, unknown>, call: RecordCall, stats: TopicStats): boolean | Promise<boolean> {
    if (Date.now() >= this.deadline) return false;
    let result: unknown;
    try {
      result = this.attempt(record, call);
    } catch (error) {
      return this.retry(record, call, stats, error);
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
      (error: unknown) => this.retry(record, call, stats, error),
    );
  }

  attempt(record: KafkaRecord<unknown, unknown>, call: RecordCall): unknown {
    this.deserialize(record);
    return call(record, this.context);
  }

  /** After a failed first attempt: the further attempts the retry policy allows. */
  async retry(record: KafkaRecord<unknown, unknown>, call: RecordCall, stats: TopicStats, firstError: unknown): Promise<boolean> {
    const { retry } = this.config;
    const firstFailureAt = Date.now();
    let error = firstError;
    for (let attempt = 1; ; attempt++) {
      if (!retry.shouldRetry(error, attempt)) {
        this.deadLetter(record, error, attempt, firstFailureAt);
        return true;
      }
      const delay = retry.delayMs(attempt);
      if (Date.now() + delay >= this.deadline) return false;
      this.config.telemetry.logger.debug('retrying record', { ...this.coordinates(record), attempt, error: (error as Error)?.message });
      await sleep(delay);
      stats.retried++;
      try {
        await this.attempt(record, call);
        stats.processed++;
        return true;
      } catch (next) {
        error = next;
      }
    }
  }

  /** Runs records in order; the first one not finished stops the sequence and is reported. */
  async runInOrder(partitionId: string, records: KafkaRecord<unknown, unknown>[], call: RecordCall): Promise<void> {
    const stats = this.topicStats(records[0]!.topic); // one sequence, one topic
    for (const record of records) {
      let finished = this.run(record, call, stats);
      if (typeof finished !== 'boolean') finished = await finished;
      if (!finished) {
        this.redeliverFrom(partitionId, record.offset);
        return;
      }
    }
  }

  deadLetter(record: KafkaRecord<unknown, unknown>, error: unknown, attempts: number, firstFailureAt: number): void {
    const { options, consumerGroup } = this.config;
    if (this.#deadLetterLog.length < LOGGED_DEAD_LETTERS) {
      this.#deadLetterLog.push({
        ...this.coordinates(record),
        attempts,
        error: { name: (error as Error)?.name, message: (error as Error)?.message },
        ...(options.logRecordContents ? { key: record.encodedKey, value: record.encodedValue } : {}),
      });
    }
    const envelope = buildEnvelope(record, {
      error,
      attempts,
      firstFailureAt,
      lastFailureAt: Date.now(),
      source: {
        functionName: this.context.functionName,
        requestId: this.context.awsRequestId,
        eventSource: this.event.eventSource,
        ...(this.event.eventSourceArn ? { eventSourceArn: this.event.eventSourceArn } : {}),
        ...(this.event.bootstrapServers ? { bootstrapServers: this.event.bootstrapServers } : {}),
        ...(consumerGroup ? { consumerGroup } : {}),
      },
    });
    this.topicStats(record.topic).deadLettered++;
    this.writer(envelope)?.add(envelope);
  }

  // Created on the first dead letter: a batch that succeeds never touches SQS.
  writer(envelope: DeadLetterEnvelope): DeadLetterWriter | undefined {
    if (this.#writer) return this.#writer;
    const { options } = this.config;
    const queueUrl = options.deadLetterQueueUrl ?? process.env.DLQ_URL;
    if (!queueUrl) {
      this.config.telemetry.logger.error('DLQ_URL is not set, so a failed record cannot be dead-lettered; it will be redelivered instead. Set DLQ_URL (the CDK construct does).', this.coordinates(envelope.record));
      this.undeliverable(envelope);
      return undefined;
    }
    const bucket = options.deadLetterBucket ?? process.env.DLQ_BUCKET;
    return (this.#writer = new DeadLetterWriter({
      queueUrl,
      ...(bucket ? { bucket } : {}),
      ...(options.deadLetterTransport ? { transport: options.deadLetterTransport } : {}),
    }));
  }

  undeliverable(envelope: DeadLetterEnvelope): void {
    const { topic, partition, offset } = envelope.record;
    const s = this.topicStats(topic);
    s.deadLettered--;
    s.deadLetterErrors++;
    this.redeliverFrom(`${topic}-${partition}`, offset);
  }

  async finish(): Promise<KafkaBatchResponse> {
    this.#logDeadLetters();
    if (this.#writer) {
      const { unsent } = await this.#writer.flush(this.flushDeadline);
      for (const { envelope, error } of unsent) {
        this.config.telemetry.logger.error('dead letter could not be written; the record will be redelivered', {
          ...this.coordinates(envelope.record),
          error: (error as Error)?.message,
        });
        this.undeliverable(envelope);
      }
    }
    const batchItemFailures: KafkaBatchResponse['batchItemFailures'] = [];
    for (const p of this.event.partitions) {
      const offset = this.#unfinished.get(p.id);
      if (offset === undefined) continue;
      batchItemFailures.push({ itemIdentifier: { partition: p.id, offset } });
      this.topicStats(p.topic).redelivered += p.records.filter((r) => r.offset >= offset).length;
    }
    if (batchItemFailures.length > 0) this.config.telemetry.logger.warn('reporting partitions for redelivery', { batchItemFailures });
    return { batchItemFailures };
  }

  // One line per invocation, not per record: the queue holds every dead letter whole, and a
  // log line per record would cost more than the record in a batch that fails widely.
  #logDeadLetters(): void {
    let count = 0;
    for (const s of this.stats.values()) count += s.deadLettered;
    if (count === 0) return;
    this.config.telemetry.logger.warn(`${count} records failed for good and were dead-lettered`, {
      deadLettered: count,
      records: this.#deadLetterLog,
      ...(count > this.#deadLetterLog.length ? { recordsNotListed: count - this.#deadLetterLog.length } : {}),
    });
  }

  coordinates(r: { topic: string; partition: number; offset: number }) {
    return { topic: r.topic, partition: r.partition, offset: r.offset };
  }
}

/** Runs tasks with at most `limit` at once. */
async function runConcurrently(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

function keyGroups(partition: PartitionBatch): KafkaRecord[][] {
  const groups = new Map<string | null, KafkaRecord[]>();
  for (const record of partition.records) {
    const group = groups.get(record.encodedKey);
    if (group) group.push(record);
    else groups.set(record.encodedKey, [record]);
  }
  return [...groups.values()];
}

/** Processes Kafka events: the engine behind {@link kafkaConsumer}. */
export class KafkaBatchProcessor<V = unknown, K = Buffer | null> {
  readonly #config: ProcessorConfig;

  constructor(options: KafkaConsumerOptions<V, K>) {
    this.#config = new ProcessorConfig(options as KafkaConsumerOptions<unknown, unknown>);
  }

  async process(event: unknown, context: Context): Promise<KafkaBatchResponse> {
    const started = Date.now();
    const { telemetry } = this.#config;
    telemetry.logger.addContext(context);
    let invocation: Invocation | undefined;
    let failed = true;
    try {
      invocation = new Invocation(this.#config, decodeEvent(event), context, started);
      const { processBatch } = this.#config.options;
      if (!processBatch || !(await this.#batchSucceeded(invocation, processBatch))) {
        const call = (processBatch ? (r, c) => processBatch([r], c) : this.#config.options.processRecord!) as RecordCall;
        await this.#runRecords(invocation, call);
      }
      const response = await invocation.finish();
      failed = false;
      return response;
    } finally {
      telemetry.publish(context.awsRequestId, invocation?.stats ?? new Map(), Date.now() - started, failed);
    }
  }

  async #runRecords(invocation: Invocation, call: RecordCall): Promise<void> {
    const byKey = this.#config.options.ordering === 'key';
    const tasks = invocation.event.partitions.flatMap((p) =>
      (byKey ? keyGroups(p) : [p.records]).map((records) => () => invocation.runInOrder(p.id, records, call)),
    );
    await runConcurrently(tasks, this.#config.options.concurrency ?? 16);
  }

  // The whole batch in one call; false when it threw and the records must be isolated.
  async #batchSucceeded(invocation: Invocation, processBatch: NonNullable<KafkaConsumerOptions<unknown, unknown>['processBatch']>): Promise<boolean> {
    const records: KafkaRecord<unknown, unknown>[] = [];
    for (const p of invocation.event.partitions) for (const r of p.records) records.push(r);
    try {
      for (const r of records) invocation.deserialize(r);
      await processBatch(records, invocation.context);
    } catch (error) {
      invocation.config.telemetry.logger.warn('processBatch failed; processing the records one at a time to isolate the failures', {
        error: (error as Error)?.message,
      });
      return false;
    }
    for (const p of invocation.event.partitions) invocation.topicStats(p.topic).processed += p.records.length;
    return true;
  }
}
