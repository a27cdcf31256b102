import type { Context } from 'aws-lambda';
import { decodeEvent, recordAt, type KafkaEventRecord, type PartitionBatch } from './event.js';
import type { KafkaRecord } from './record.js';
import { resolveDeserializer, type Deserializer } from './deserializers.js';
import { RetryPolicy, type RetryOptions } from './retry.js';
import type { DeadLetterTransport } from './dead-letter-writer.js';
import { ConfigurationError, describeError } from '../contract/errors.js';
import { Telemetry, type TelemetryOptions } from './telemetry.js';
import { OutcomeLedger, type KafkaBatchResponse } from './outcome-ledger.js';
import { DeadLetters } from './dead-letters.js';
import { RecordRunner, type RecordCall, type RecordRunnerConfig } from './record-runner.js';
import { keyGroups, runConcurrently } from './record-tasks.js';
import { DEFAULT_TIME_SAFETY_MARGIN_MS, ENV } from '../contract/index.js';
import { OutageDetector, outageSettingsFrom, type OutageOptions, type OutageSettings } from './outage.js';
import { SandboxBreakers } from './sandbox-breakers.js';
import { failureModeFrom, type FailureMode } from './failure-mode.js';
import { PartitionBlocks, type BlockedPartition } from './partition-blocks.js';
// Types only: the ledger's code is in its own entry point, bundled only by the handlers that import it.
import type { IdempotencyLedger, InvocationGuard, StartGuard } from './idempotency/ledger.js';
// Types only: park-key's code is loaded (import()) by handlers in that mode alone.
import type { InvocationParking, StartParking } from './parking/parking.js';
import { parkingTableFrom } from './parking/parking-settings.js';
import { InvocationTrace, tracingSettingsFrom, type TracingOptions, type TracingSettings } from './tracing.js';

export type { KafkaBatchResponse } from './outcome-ledger.js';

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
  /**
   * Whether the mapping honours partial batch responses (Lambda's Kafka mappings do only in
   * provisioned mode, with ReportBatchItemFailures). When it does not, an invocation that
   * would report records for redelivery throws a `WholeBatchRetryError` instead, so that the
   * whole batch is retried rather than committed. @default `REPORT_BATCH_ITEM_FAILURES`, else true
   */
  readonly reportBatchItemFailures?: boolean;
  /** The SQS dead-letter queue. @default `DLQ_URL` */
  readonly deadLetterQueueUrl?: string;
  /** The bucket for dead letters over SQS's 1 MiB. @default `DLQ_BUCKET` */
  readonly deadLetterBucket?: string;
  /**
   * The construct's `consumerGroupId`; dead letters record the group of the record's mapping,
   * `<consumerGroupId>-<topic>`. @default `KAFKA_CONSUMER_GROUP`
   */
  readonly consumerGroupId?: string;
  /** Metrics namespace and service name. */
  readonly telemetry?: TelemetryOptions;
  /** Log record keys and values on failures. @default false */
  readonly logRecordContents?: boolean;
  /** Where dead letters are written. @default SQS and S3 through the AWS SDK */
  readonly deadLetterTransport?: DeadLetterTransport;
  /**
   * Skip records whose work is done when they come again (a retried batch, a redelivery, a
   * replayed dead letter), with a ledger in DynamoDB: `idempotencyLedger()` (or
   * `idempotencyLedger({ key, … })`), imported from `kafka-lambda-consumers/runtime/idempotency`
   * so that handlers without it do not bundle it. `true` is not accepted. See docs/idempotency.md.
   * @default false
   */
  readonly idempotency?: false | IdempotencyLedger<V, K>;
  /**
   * Downstream outages: a record whose last attempt fails with an outage error (see
   * `isOutageError`), or (when set) the `consecutiveFailures`-th in a row to fail all its attempts, is
   * not dead-lettered but redelivered, no further record starts, and the mapping is paused by
   * the construct's breaker until the downstream is back. `false` turns it off. See docs/breaker.md.
   * @default on when `BREAKER_COOL_DOWN_SECONDS` is set (the construct's `breaker`), with `isOutageError` and no `consecutiveFailures`
   */
  readonly outage?: false | OutageOptions;
  /**
   * What becomes of a record that exhausts its retries: `'dead-letter'` (to the dead-letter
   * queue; its partition moves on), `'block'` (never skipped: its partition is redelivered from
   * it until it succeeds), `'park-key'` (dead-lettered, and the later records of its key in its
   * partition wait, unrun, until the replay releases them in order). The construct's `failureMode`
   * sets `FAILURE_MODE` with the mapping settings the mode needs. See docs/failure-modes.md.
   * @default `FAILURE_MODE`, else 'dead-letter'
   */
  readonly failureMode?: FailureMode;
  /**
   * Spans with OpenTelemetry's API: one per invocation and one per record, user code running in its
   * record's (whose parent is the trace context the record's headers carry). A no-op unless the
   * function registers an OpenTelemetry SDK (the ADOT Lambda layer, or its own setup); `false` turns
   * it off even then. Record values are never put on spans; keys only with `recordKeys`. See docs/tracing.md.
   * @default on when an SDK is registered, without keys
   */
  readonly tracing?: false | TracingOptions;
}

function reportBatchItemFailuresFrom(env: NodeJS.ProcessEnv): boolean {
  const value = env[ENV.reportBatchItemFailures];
  if (value === undefined || value === '' || value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigurationError(
    `${ENV.reportBatchItemFailures} is "${value}"; it must be true or false (the CDK construct sets it from the mapping's reportBatchItemFailures).`,
  );
}

const IMPORT_LEDGER = "import { idempotencyLedger } from 'kafka-lambda-consumers/runtime/idempotency'";

/** The `idempotency` option's ledger, opened (its settings checked) once per handler; undefined when off. */
function startGuardOf(option: unknown, consumerGroupId: string | undefined): StartGuard | undefined {
  if (option === undefined || option === false) return undefined;
  if (typeof (option as Partial<IdempotencyLedger> | null)?.open !== 'function') {
    throw new ConfigurationError(
      `idempotency must be false or a ledger made by idempotencyLedger(), got ${option === true ? 'true' : typeof option}: ${IMPORT_LEDGER} and give kafkaConsumer idempotency: idempotencyLedger() (its options, such as key, as idempotencyLedger({ key })).`,
    );
  }
  return (option as IdempotencyLedger).open(consumerGroupId, process.env);
}

/** Validated options, shared by every invocation of a handler. */
class ProcessorConfig implements RecordRunnerConfig {
  readonly retry: RetryPolicy;
  readonly deserializeValue;
  readonly deserializeKey;
  readonly telemetry: Telemetry;
  readonly logger;
  readonly reportBatchItemFailures: boolean;
  readonly deadLetters;
  /** Starts an invocation's ledger; undefined without one. */
  readonly startGuard: StartGuard | undefined;
  readonly failureMode: FailureMode;
  /** Starts an invocation's parking (failureMode 'park-key'), once its code is loaded; undefined in the other modes. */
  readonly startParking: Promise<StartParking> | undefined;
  /** Outage handling; undefined when off. */
  readonly outage: OutageSettings | undefined;
  /** Tracing; undefined with `tracing: false`. */
  readonly tracing: TracingSettings | undefined;

  constructor(readonly options: KafkaConsumerOptions<unknown, unknown>) {
    if (!options.processRecord === !options.processBatch) {
      throw new ConfigurationError('kafkaConsumer needs exactly one of processRecord or processBatch.');
    }
    if (options.ordering && options.ordering !== 'partition' && options.ordering !== 'key') {
      throw new ConfigurationError(`ordering must be 'partition' or 'key', got "${options.ordering}".`);
    }
    const concurrency = options.concurrency ?? 16;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new ConfigurationError(`concurrency must be a whole number ≥ 1, got ${concurrency}.`);
    const margin = options.timeSafetyMarginMs;
    if (margin !== undefined && !(Number.isFinite(margin) && margin >= 0)) {
      throw new ConfigurationError(
        `timeSafetyMarginMs must be a finite number of milliseconds ≥ 0, got ${margin}; leave it out for the default ${DEFAULT_TIME_SAFETY_MARGIN_MS}.`,
      );
    }
    this.retry = new RetryPolicy(options.retry);
    this.deserializeValue = resolveDeserializer(options.deserializer ?? 'json', 'value');
    // Any given value, '' included, is resolved (and refused when unknown), never taken as "none".
    this.deserializeKey = options.keyDeserializer === undefined ? undefined : resolveDeserializer(options.keyDeserializer, 'key');
    const consumerGroupId = options.consumerGroupId ?? process.env[ENV.consumerGroup];
    this.startGuard = startGuardOf(options.idempotency, consumerGroupId);
    this.outage = outageSettingsFrom(options.outage, process.env);
    this.failureMode = failureModeFrom(options.failureMode, process.env);
    this.tracing = tracingSettingsFrom(options.tracing, consumerGroupId);
    this.telemetry = new Telemetry(options.telemetry, {
      ledger: this.startGuard !== undefined,
      outage: this.outage !== undefined,
      block: this.failureMode === 'block',
      parking: this.failureMode === 'park-key',
    });
    this.logger = this.telemetry.logger;
    if (options.idempotency === undefined && process.env[ENV.idempotencyTable]) {
      this.logger.warn(
        `${ENV.idempotencyTable} is set (the construct's idempotency is on) but this handler's kafkaConsumer has no idempotency option, so every record runs, done or not. Give kafkaConsumer idempotency: idempotencyLedger(), with ${IMPORT_LEDGER} (or idempotency: false to say so).`,
      );
    }
    this.reportBatchItemFailures = options.reportBatchItemFailures ?? reportBatchItemFailuresFrom(process.env);
    const queueUrl = options.deadLetterQueueUrl ?? process.env[ENV.deadLetterQueueUrl];
    const bucket = options.deadLetterBucket ?? process.env[ENV.deadLetterBucket];
    this.deadLetters = {
      ...(queueUrl ? { queueUrl } : {}),
      ...(bucket ? { bucket } : {}),
      ...(options.deadLetterTransport ? { transport: options.deadLetterTransport } : {}),
      ...(consumerGroupId ? { consumerGroupId } : {}),
      logRecordContents: options.logRecordContents ?? false,
    };
    if (this.failureMode === 'park-key') {
      const table = parkingTableFrom(process.env, this.deadLetters);
      // Loaded during the cold start, run by the first invocation.
      this.startParking = import('./parking/index.js').then((m) => m.openParking(table, consumerGroupId));
      this.startParking.catch(() => undefined); // awaited (and thrown) by the first invocation
    } else {
      this.startParking = undefined;
    }
  }
}

/** Processes Kafka events: the engine behind {@link kafkaConsumer}. */
export class KafkaBatchProcessor<V = unknown, K = Buffer | null> {
  readonly #config: ProcessorConfig;
  /** The runner kept between invocations (see RecordRunner); undefined while one is using it. */
  #idleRunner: RecordRunner | undefined;
  /** The breakers this sandbox opened, whose mappings may still poll for a while. */
  readonly #breakers = new SandboxBreakers();

  constructor(options: KafkaConsumerOptions<V, K>) {
    this.#config = new ProcessorConfig(options as KafkaConsumerOptions<unknown, unknown>);
    this.#idleRunner = new RecordRunner(this.#config);
  }

  async process(event: unknown, context: Context): Promise<KafkaBatchResponse> {
    const started = Date.now();
    const config = this.#config;
    config.logger.addContext(context);
    let ledger: OutcomeLedger | undefined;
    let guard: InvocationGuard | undefined;
    let failed = true;
    let redeliveredForOutage = false;
    let blocked: BlockedPartition[] = [];
    let tracing: InvocationTrace | undefined;
    let thrown: unknown;
    // Invocations at once (only outside Lambda) each get a runner of their own.
    const runner = this.#idleRunner ?? new RecordRunner(config);
    this.#idleRunner = undefined;
    try {
      const decoded = decodeEvent(event);
      ledger = new OutcomeLedger(decoded, started);
      tracing = InvocationTrace.start(config.tracing, decoded, context);
      // No record or retry starts after `deadline`; dead letters must be in SQS by `flushBy`.
      const remaining = context.getRemainingTimeInMillis();
      const margin = Math.min(config.options.timeSafetyMarginMs ?? DEFAULT_TIME_SAFETY_MARGIN_MS, remaining / 2);
      const deadline = Math.floor(started + remaining - margin);
      const flushBy = Math.floor(started + remaining - margin / 4);
      const deadLetters = new DeadLetters(config.deadLetters, decoded, context, ledger, config.logger, flushBy);
      const outage = config.outage && new OutageDetector(config.outage);
      const pausedUntil = outage && this.#breakers.pausedUntil(decoded, started);
      if (pausedUntil) {
        redeliveredForOutage = true;
        await this.#breakers.hold(ledger, Math.min(pausedUntil, deadline), config.logger);
      } else {
        const times = { leaseUntil: started + remaining, startBy: deadline, writeBy: flushBy };
        guard = config.startGuard?.(decoded, context.awsRequestId, times, ledger, config.logger, (r) => runner.deserialize(r));
        const blocks = config.failureMode === 'block' ? new PartitionBlocks() : undefined;
        const parking = config.startParking && (await config.startParking)(decoded, deadLetters, times, ledger, config.logger);
        runner.begin({ context, ledger, deadLetters, deadline, guard, outage, blocks, parking, tracing });
        const { processBatch } = config.options;
        if (!processBatch || !(await this.#batchSucceeded(runner, ledger, context, processBatch, guard, parking, tracing))) {
          const call = (processBatch ? (r, c) => processBatch([r], c) : config.options.processRecord!) as RecordCall;
          // Traced, each attempt runs in its record's span; off, the runner calls user code as it is.
          await this.#runRecords(runner, ledger, tracing ? tracing.traced(call) : call, guard);
        }
        if (blocks) blocked = blocks.report(ledger, config.logger);
      }
      redeliveredForOutage ||= outage?.tripped === true;
      const trip = outage?.tripped ? this.#breakers.open(ledger, context, outage, flushBy, config.logger) : undefined;
      await Promise.all([deadLetters.flush(), guard?.finish(), trip]);
      const response = ledger.response(config.reportBatchItemFailures);
      if (response.batchItemFailures.length > 0)
        config.logger.warn('reporting partitions for redelivery', { batchItemFailures: response.batchItemFailures });
      failed = false;
      return response;
    } catch (error) {
      thrown = error;
      throw error;
    } finally {
      tracing?.finish(failed, thrown);
      // After an unexpected error too: what completed is recorded and the leases go (a no-op after finish above).
      if (guard) await guard.finish();
      runner.end();
      this.#idleRunner ??= runner;
      if (redeliveredForOutage) for (const s of ledger!.stats.values()) s.redeliveredForOutage = s.redelivered;
      config.telemetry.publish(context.awsRequestId, ledger?.stats ?? new Map(), Date.now() - started, failed, blocked);
    }
  }

  async #runRecords(runner: RecordRunner, ledger: OutcomeLedger, call: RecordCall, guard: InvocationGuard | undefined): Promise<void> {
    const byKey = this.#config.options.ordering === 'key';
    const tasks = ledger.event.partitions.flatMap((p) => {
      const groups = byKey ? keyGroups(p) : [p.entries];
      let running = groups.length;
      return groups.map((entries) => async () => {
        await runner.runInOrder(p, entries, call, ledger.topicStats(p.topic));
        // The partition's last group finished: its lease goes now, not at the invocation's end.
        if (--running === 0) guard?.release(p);
      });
    });
    await runConcurrently(tasks, this.#config.options.concurrency ?? 16);
  }

  // The whole batch in one call; false when it threw and the records must be isolated.
  async #batchSucceeded(
    runner: RecordRunner,
    ledger: OutcomeLedger,
    context: Context,
    processBatch: NonNullable<KafkaConsumerOptions<unknown, unknown>['processBatch']>,
    guard: InvocationGuard | undefined,
    parking: InvocationParking | undefined,
    tracing: InvocationTrace | undefined,
  ): Promise<boolean> {
    const { partitions } = ledger.event;
    // Parked keys: records to hold and keys to park are the one-at-a-time path's to handle.
    if (parking && (!(await parking.ready()) || partitions.some((p) => p.entries.some((r) => parking.stateOf(p, r) !== 'run'))))
      return false;
    const records: KafkaRecord<unknown, unknown>[] = [];
    // With the ledger, the records whose work is not done yet; any other answer (a partition not
    // claimed, a record undecided or without a valid key) is the one-at-a-time path's to handle.
    const toRun: Array<[PartitionBatch, KafkaEventRecord]> = [];
    const skipped: PartitionBatch[] = [];
    if (guard) {
      for (const p of partitions) if (!(await guard.claimed(p))) return false;
      for (const p of partitions) {
        for (const r of p.entries) {
          const state = guard.stateOf(p, r);
          if (state === 'done') skipped.push(p);
          else if (state === 'run') toRun.push([p, r]);
          else return false;
        }
      }
    } else {
      for (const p of partitions) for (const r of p.entries) toRun.push([p, r]);
    }
    for (const [p, r] of toRun) records.push(recordAt(p, r));
    try {
      for (const r of records) runner.deserialize(r);
      // One call for many records, each of its own trace: in the invocation's span.
      await (tracing ? tracing.run(processBatch, records, context) : processBatch(records, context));
    } catch (error) {
      // The error's type only: its message may quote a record, and each record's own failure is reported on its own.
      this.#config.logger.warn('processBatch failed; processing the records one at a time to isolate the failures', {
        errorType: describeError(error).type,
      });
      return false;
    }
    for (const [p, r] of toRun) {
      ledger.topicStats(p.topic).processed++;
      guard?.markDone(p, r);
    }
    for (const p of skipped) ledger.topicStats(p.topic).skippedAsDone++;
    return true;
  }
}
