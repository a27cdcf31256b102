import type { Context } from 'aws-lambda';
import { decodeEvent, recordAt, type KafkaEventRecord, type PartitionBatch } from './event.js';
import type { KafkaRecord } from './record.js';
import { describeError } from '../contract/errors.js';
import { OutcomeLedger, type KafkaBatchResponse } from './outcome-ledger.js';
import { DeadLetters } from './dead-letters.js';
import { RecordRunner, type RecordCall } from './record-runner.js';
import { keyGroups, runConcurrently } from './record-tasks.js';
import { DEFAULT_TIME_SAFETY_MARGIN_MS } from '../contract/index.js';
import { OutageDetector } from './outage.js';
import { SandboxBreakers } from './sandbox-breakers.js';
import { PartitionBlocks, type BlockedPartition } from './partition-blocks.js';
import type { InvocationGuard } from './idempotency/ledger.js';
import type { InvocationParking } from './parking/parking.js';
import { InvocationTrace } from './tracing.js';
import { ProcessorConfig, type KafkaConsumerOptions } from './processor-config.js';

export type { KafkaBatchResponse } from './outcome-ledger.js';

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
      // One work twice (two copies of a dead letter, one business key): the one-at-a-time path runs it once.
      const works = new Set<string>();
      for (const p of partitions) {
        for (const r of p.entries) {
          const state = guard.stateOf(p, r);
          const work = guard.workId(r);
          if (work !== undefined && works.has(work)) return false;
          if (work !== undefined) works.add(work);
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
