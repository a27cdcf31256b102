// One chaos run: the embedded cluster (3 brokers) and SQS/S3 behind the fault proxy; the
// example consumer in sandboxes behind the event source mapping emulator while N records of
// the demo mix are produced; then the replay (in a child process, killed once between its
// produce and its delete); all under the fault schedule. Then the faults are healed, the
// consumer drains, and the ground truth (what the user function finished, what the DLQ holds)
// is compared with what was produced. The outage breaker is on (unless `breaker: false`): the
// consumer pauses the mapping through the local Lambda API, the resumer resumes it on its schedule.
import { fileURLToPath } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import cdkJson from '../../cdk.json' with { type: 'json' };
import { effectiveMappingSettings } from '../../src/mapping/mapping-settings.js';
import { mappingSettingsFromContext } from '../../src/mapping/mapping-context.js';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { ENV } from '../../src/contract/index.js';
import { startLocalServices, type LocalServices } from '../services.js';
import { startFaultProxy } from '../fault-proxy.js';
import { produceDemoRecords } from '../demo-workload.js';
import { GroundTruth, RECORD_FINISHED_CHANNEL, type GroundTruthSummary } from '../ground-truth.js';
import { RuntimeReports } from '../runtime-reports.js';
import { EventSourceMappingEmulator } from '../esm/emulator.js';
import { sqsOnFailureDestination } from '../esm/on-failure-destinations.js';
import { RUNTIME_CHANNELS, SandboxPool } from '../esm/sandbox.js';
import { HandlerFaults } from './handler-faults.js';
import { FaultSchedule, FAULT_KINDS, type FaultCountsByKind } from './schedule.js';
import type { ChaosConsumerData } from './chaos-consumer.js';
import { ReplayRuns } from './replay-runs.js';
import { behind, until } from './consumer-progress.js';
import { RestartingMapping } from './restarting-mapping.js';
import { localBreakerEnvironment, startResumerSchedule } from '../breaker-schedule.js';
import type { FailureMode } from '../../src/contract/index.js';
import { BlockFix, failureModeEnvironment, failureModeSettings, failureModeTruth, type BlockReport } from './failure-modes.js';

export interface ChaosOptions {
  readonly records: number;
  /** @default 6 */
  readonly partitions?: number;
  /** Inject faults; without, the run is a soak. @default true */
  readonly faults?: boolean;
  /** The consumer function's timeout. @default 4000 ms */
  readonly functionTimeoutMs?: number;
  /**
   * Give up (and report what is missing) after this long: a safety net, not a speed target (a
   * 30,000-record run takes 5 to 8 minutes here, longer on a busy machine).
   * @default 600 s + 20 ms per record
   */
  readonly deadlineMs?: number;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** The consumer runs with the runtime's idempotency ledger (on the embedded DynamoDB). @default false */
  readonly idempotency?: boolean;
  /** The outage breaker (the construct's `breaker` prop), with cool-downs scaled down to seconds. @default true */
  readonly breaker?: boolean;
  /** The consumer's failure mode, with the mapping settings the construct requires for it, and the keyed demo mix. @default 'dead-letter' */
  readonly failureMode?: FailureMode;
}

/** The ground truth's counts, and what the run did. */
export interface ChaosSummary extends Omit<GroundTruthSummary, 'lostRecords'> {
  /** Records the runtime skipped because its idempotency ledger said their work was done (its own account). */
  skippedAsDone: number;
  /** Dead letters the replay moved back onto the topic (copies included when a run was cut short). */
  replayed: number;
  /** Records the mapping sent to its on-failure destination (metadata only: their data is not there). */
  onFailure: number;
  /** Times the mapping was disabled through the Lambda API (the breaker opening), as the local Lambda API counted them. */
  pauses: number;
  /** Times kafkajs stopped the mapping's consumer for good over the cluster's trouble, and the run started it again. */
  consumerCrashes: number;
  /**
   * Times the healed drain made no progress for {@link STALL_MS}: the first ends the run, cut
   * short (the mapping must carry on by itself, as Lambda's pollers do; nothing restarts it).
   */
  consumerStalls: number;
  faults: FaultCountsByKind;
  /** The consumer process's resident memory when 20% of the records had been processed, and at 100%. */
  rssStartBytes: number;
  rssEndBytes: number;
  /** Every record accounted for before the deadline. */
  complete: boolean;
  durationMs: number;
  /** Produced records per second, from the first produce to the consumer catching up. */
  recordsPerSecond: number;
  /** The first lost records, when some were. */
  lostRecords?: string[];
  failureMode: FailureMode;
  /** park-key: keys the replay released. */
  keysReleased: number;
  /** block: the partitions blocked at the data's fix, and how they and the others fared. */
  block?: BlockReport;
}

const BROKERS = 3;
/** Invocation faults: every n-th invocation (across sandboxes) throws, or hangs. */
const ERROR_EVERY = 11;
const TIMEOUT_EVERY = 23;
const REPLAY_MAX_RUNS = 20;
/** Short, so that a restarted consumer's rebalance takes seconds, not half a minute. */
const SESSION_TIMEOUT_MS = 6_000;
/** In the healed drain, this long without a partition moving means kafkajs stopped fetching. */
const STALL_MS = 20_000;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const started = Date.now();
  const records = options.records;
  const partitions = options.partitions ?? 6;
  const withFaults = options.faults ?? true;
  const withBreaker = options.breaker ?? true;
  const mode = options.failureMode ?? 'dead-letter';
  const giveUpAt = started + (options.deadlineMs ?? 600_000 + 20 * records);
  const log = options.log ?? (() => undefined);
  const topic = `orders-chaos-${started}`;
  const cleanup: Array<() => Promise<unknown>> = [];
  try {
    // Always the embedded cluster: the schedule needs its control lines.
    const services = await startLocalServices({
      topic,
      partitions,
      brokers: BROKERS,
      environment: {},
      idempotency: options.idempotency ?? false,
      parkedKeys: mode === 'park-key',
    });
    cleanup.push(() => services.stop());
    const proxy = await startFaultProxy(services.env.AWS_ENDPOINT_URL, { apis: [] });
    cleanup.push(() => proxy.stop());
    const settings = failureModeSettings(mode, {
      ...mappingSettingsFromContext((k) => (cdkJson.context as Record<string, unknown>)[k]),
      topics: [topic],
      consumerGroupId: `${topic}-consumer`,
    });
    // What the sandboxes and the replay see: the proxy in front of SQS/S3, quiet logs.
    Object.assign(process.env, services.env, {
      KAFKA_TOPIC: topic,
      REPLAY_ALLOWED_TOPICS: topic,
      AWS_ENDPOINT_URL: proxy.endpoint,
      [ENV.reportBatchItemFailures]: String(effectiveMappingSettings(settings).reportBatchItemFailures),
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      // What the construct's breaker sets on the consumer (the sandboxes start with this environment).
      ...(withBreaker ? localBreakerEnvironment() : {}),
      ...failureModeEnvironment(mode, settings.consumerGroupId),
    });
    log(
      `kafka ${services.env.KAFKA_BROKERS} (${BROKERS} brokers) · sqs/s3 ${services.env.AWS_ENDPOINT_URL} behind ${proxy.endpoint} · topic ${topic} (${partitions} partitions)${options.idempotency ? ` · idempotency ledger ${services.env.IDEMPOTENCY_TABLE} on ${services.env.AWS_ENDPOINT_URL_DYNAMODB}` : ''}`,
    );
    // The harness's own reads and writes go around the proxy.
    const sqs = directSqs(services);
    cleanup.push(async () => sqs.destroy());

    const truth = new GroundTruth(failureModeTruth(mode));
    cleanup.push(async () => truth.close());
    const reports = new RuntimeReports();
    cleanup.push(async () => reports.close());
    const handlerFaults = new HandlerFaults(ERROR_EVERY, TIMEOUT_EVERY);
    const sandboxes = new SandboxPool({
      module: here('./chaos-consumer.ts'),
      channels: [...RUNTIME_CHANNELS, RECORD_FINISHED_CHANNEL],
      warm: partitions,
      data: {
        errorEvery: handlerFaults.errorEvery,
        timeoutEvery: handlerFaults.timeoutEvery,
        buffer: handlerFaults.buffer,
        idempotency: options.idempotency ?? false,
      } satisfies ChaosConsumerData,
    });
    cleanup.push(() => sandboxes.close());
    const kafka = await createKafka(process.env, 'chaos');
    const admin = kafka.admin();
    await admin.connect();
    cleanup.push(() => admin.disconnect());

    let onFailure = 0;
    const onFailureQueue = sqsOnFailureDestination(sqs, services.env.ON_FAILURE_QUEUE_URL);
    const countedOnFailure = async (batch: Parameters<typeof onFailureQueue.send>[0]) => {
      await onFailureQueue.send(batch);
      onFailure += batch.records.length;
    };
    const newEmulator = () =>
      new EventSourceMappingEmulator({
        kafka,
        topic,
        settings,
        bootstrapServers: services.env.KAFKA_BROKERS,
        // Deliveries counted here, outside the runtime (which may skip a record as already done).
        handler: truth.delivering(sandboxes.handler),
        functionTimeoutMs: options.functionTimeoutMs ?? 4_000,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
        // Counted across the emulators a run replaces (each one's stats start at zero). None in block mode.
        ...(mode === 'block' ? {} : { onFailure: { target: onFailureQueue.target, send: countedOnFailure } }),
      });
    const mapping = new RestartingMapping(newEmulator, services.lambdaApi, giveUpAt);
    cleanup.push(() => mapping.emulator.stop());
    await sandboxes.ready; // initialized before traffic, as provisioned concurrency
    await mapping.start();
    if (withBreaker) {
      const resumer = await startResumerSchedule(mapping.emulator.functionName, log);
      cleanup.push(() => resumer.stop());
    }

    let phase: 'consume' | 'replay' | 'drain' = 'consume';
    const schedule = new FaultSchedule({
      kafka: services.kafka!,
      brokers: BROKERS,
      proxy,
      handlerFaults,
      // The mapping's pollers restart during consumption only: the replay phase has them stopped.
      restartConsumer: async () => {
        if (phase !== 'consume' || mapping.replacing) return false;
        await mapping.replace();
        return true;
      },
    });
    if (withFaults) schedule.start();
    cleanup.push(() => schedule.stop());

    // The replay phase has the mapping's pollers stopped (not in park-key mode: the release waits for the consumer).
    const stopWatching = mapping.watchCrashes(() => phase === 'replay' && mode !== 'park-key', log);
    cleanup.push(async () => stopWatching());
    const failed = () => mapping.fatal;

    /** What the last check found short of caught up (see {@link behind}). */
    let waitingFor: string | undefined;
    const caughtUp = async () => (waitingFor = await behind(admin, mapping.emulator.groupId, topic)) === undefined;
    let rssStartBytes = 0;
    const sampler = setInterval(() => {
      if (!rssStartBytes && truth.finished >= records * 0.2) rssStartBytes = process.memoryUsage.rss();
    }, 100);
    cleanup.push(async () => clearInterval(sampler));
    const progress = setInterval(() => {
      const { invocations, failedInvocations, offsetLag } = mapping.emulator.stats;
      const rss = (process.memoryUsage.rss() / 1024 / 1024).toFixed(0);
      log(
        `${Math.round((Date.now() - started) / 1_000)} s: ${truth.finished} finished · ${invocations} invocations (${failedInvocations} failed) · lag ${offsetLag} · rss ${rss} MB · ${phase}${waitingFor ? ` · waiting for ${waitingFor}` : ''}${mapping.emulator.error ? ` · ${mapping.emulator.error.message}` : ''}`,
      );
    }, 5_000);
    cleanup.push(async () => clearInterval(progress));

    let producedAll = false;
    const blockFix =
      mode === 'block'
        ? new BlockFix(truth, handlerFaults, topic, partitions, () => producedAll && (!withFaults || schedule.cycles >= 1), log)
        : undefined;
    cleanup.push(async () => blockFix?.stop());
    await produceDemoRecords(kafka, topic, partitions, records, truth, giveUpAt, mode !== 'dead-letter');
    producedAll = true;
    log(`produced ${records} records`);
    let complete = await until(async () => (!withFaults || schedule.cycles >= 1) && (await caughtUp()), failed, giveUpAt);
    const consumedAt = Date.now();
    const rssEndBytes = process.memoryUsage.rss();
    clearInterval(sampler);
    log(`consumed: ${truth.finished} records finished by the function`);

    // The replay, with the consumer stopped and the schedule over: one round of SQS/S3 faults
    // and a crash (the replay gives up an invocation on the first error it meets, so faults
    // arriving all along would keep it from ever finishing).
    phase = 'replay';
    await schedule.stop();
    await mapping.replacing;
    // Stopped, not paused: a kafkajs consumer resumed after a pause can leave partitions
    // unfetched for good (kafkajs issue #1641). As in production, the mapping is disabled for
    // the replay and enabled again after it, resuming from the committed offsets; in park-key
    // mode it runs, the release waiting for it to pass its copies, and the data is corrected first.
    if (mode === 'park-key') handlerFaults.dataFixed = true;
    else await mapping.emulator.stop();
    // The outage dead letters, before the replay takes them away (then fixed, they would not show at the end).
    await truth.readOutageDeadLetters(sqs, services.env.DLQ_URL, topic);
    if (withFaults) schedule.spoilSqsCalls();
    const replay = new ReplayRuns(sqs, services.env.DLQ_URL, proxy);
    let crashPending = withFaults;
    proxy.plan.intercept = (api) => {
      if (api !== 'AmazonSQS.DeleteMessageBatch' || !crashPending || !replay.child) return false;
      // Produced to Kafka and acknowledged, not yet deleted from SQS: the worst moment to die.
      crashPending = false;
      replay.child.kill('SIGKILL');
      schedule.replayCrashes++;
      return true;
    };
    let replayed = 0;
    let keysReleased = 0;
    for (let run = 0; complete && run < REPLAY_MAX_RUNS; run++) {
      const summary = await replay.run();
      replayed += summary?.replayed ?? 0;
      keysReleased += summary?.parked?.keysReleased ?? 0;
      if (summary && (summary.received === 0 || (summary.replayed === 0 && !crashPending))) break;
    }
    log(`replayed ${replayed} dead letters in ${replay.runs} runs (${schedule.replayCrashes} killed)`);

    // Healed: the consumer takes the replayed records, and everything settles.
    phase = 'drain';
    await schedule.stop();
    if (mode !== 'park-key') await mapping.start();
    // Faults healed, a partition can only stand still because the consumer stopped fetching it.
    // Lambda's pollers carry on by themselves, and so must the emulator: a stall fails the run.
    let consumerStalls = 0;
    let seen = waitingFor;
    let movedAt = Date.now();
    const caughtUpOrStalled = async () => {
      if (await caughtUp()) return true;
      if (waitingFor !== seen) [seen, movedAt] = [waitingFor, Date.now()];
      else if (Date.now() - movedAt > STALL_MS) {
        consumerStalls++;
        log(`the mapping's consumer made no progress for ${STALL_MS / 1_000} s with every fault healed (${waitingFor}): the run fails`);
      }
      return false;
    };
    complete = complete && (await until(caughtUpOrStalled, failed, giveUpAt, () => consumerStalls > 0));
    if (!complete && consumerStalls === 0) log(`the deadline passed waiting for ${waitingFor}`);
    await mapping.emulator.stop();
    await sandboxes.close();

    await truth.readDeadLetters(sqs, services.env.DLQ_URL, topic);
    const { lostRecords, ...t } = truth.summary();
    return {
      ...t,
      failureMode: mode,
      keysReleased,
      ...(blockFix ? { block: blockFix.report() } : {}),
      skippedAsDone: reports.skippedAsDone,
      replayed,
      onFailure,
      pauses: services.lambdaApi.pauses,
      consumerCrashes: mapping.consumerCrashes,
      consumerStalls,
      faults: withFaults ? schedule.counts : (Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as FaultCountsByKind),
      rssStartBytes,
      rssEndBytes,
      complete,
      durationMs: Date.now() - started,
      recordsPerSecond: Math.round((records / (consumedAt - started)) * 1_000),
      ...(t.lost > 0 ? { lostRecords } : {}),
    };
  } finally {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
  }
}

function directSqs(services: LocalServices): SQSClient {
  const {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
  } = services.env;
  return new SQSClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey }, useQueueUrlAsEndpoint: false });
}
