// `npm start [-- --records N] [--partitions N] [--deadline SECONDS] [--idempotency] [--no-breaker] [--json] [--watch]`: the
// whole flow on one machine. Starts the embedded broker and SQS/S3 (or uses KAFKA_BROKERS /
// AWS_ENDPOINT_URL), produces a demo workload, runs the example consumer behind the event
// source mapping emulator until every record is accounted for (or the deadline passes),
// replays the dead letters and consumes them again, then prints a summary whose `lost` comes
// from ground truth: what was produced, against what the user function finished and what the
// dead-letter queue holds at the end. `--idempotency` runs the consumer with the runtime's ledger.
// The outage breaker is on, as the construct deploys it (cool-downs in seconds): the consumer can
// pause the mapping through the local Lambda API and the resumer runs every second; `--no-breaker` turns it off.
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startLocalServices } from './services.js';
import { produceDemoRecords } from './demo-workload.js';
import { GroundTruth, RECORD_FINISHED_CHANNEL } from './ground-truth.js';
import { RuntimeReports } from './runtime-reports.js';
import type { RecordedConsumerData } from './recorded-consumer.js';
import { EventSourceMappingEmulator } from './esm/emulator.js';
import { sqsOnFailureDestination } from './esm/on-failure-destinations.js';
import { lambdaContext } from './esm/lambda-context.js';
import { RUNTIME_CHANNELS, SandboxPool } from './esm/sandbox.js';
import { createKafka } from '../src/kafka/kafka-connection.js';
import { ENV } from '../src/contract/index.js';
import { localBreakerEnvironment, startResumerSchedule } from './breaker-schedule.js';
import { effectiveMappingSettings } from '../src/mapping/mapping-settings.js';
import { mappingSettingsFromContext } from '../src/mapping/mapping-context.js';
import cdkJson from '../cdk.json' with { type: 'json' };

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    partitions: { type: 'string', default: '6' },
    deadline: { type: 'string', default: '300' },
    idempotency: { type: 'boolean', default: false },
    breaker: { type: 'boolean', default: true },
    json: { type: 'boolean', default: false },
    watch: { type: 'boolean', default: false },
  },
  allowNegative: true,
});
const wholeNumber = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name} must be a whole number ≥ 1, got ${value}\n`);
    process.exit(2);
  }
  return n;
};
const total = wholeNumber('records', values.records);
const partitions = wholeNumber('partitions', values.partitions);
const deadlineMs = wholeNumber('deadline', values.deadline) * 1_000;

// Quiet the in-process handlers: the summary is the output.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const started = Date.now();
const giveUpAt = started + deadlineMs;
const topic = `orders-demo-${started}`;
const log = (line: string) => process.stderr.write(`${line}\n`);
const services = await startLocalServices({ topic, partitions, idempotency: values.idempotency });
const stopAll: Array<() => Promise<void>> = [() => services.stop()];
const shutdown = async () => {
  for (const stop of stopAll.reverse()) await stop().catch(() => undefined);
};
process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
process.once('SIGTERM', () => void shutdown().then(() => process.exit(143)));

/** Waits for `done`, or until the run's deadline (true when done); `failed` ends the wait with its error. */
const until = async (done: () => boolean, failed: () => Error | undefined) => {
  while (!done()) {
    const error = failed();
    if (error) throw error; // e.g. a batch the emulator cannot decode: say so, do not wait
    if (Date.now() > giveUpAt) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
};

try {
  Object.assign(process.env, services.env, { KAFKA_TOPIC: topic, REPLAY_ALLOWED_TOPICS: topic });
  log(`kafka ${services.env.KAFKA_BROKERS} · sqs/s3 ${services.env.AWS_ENDPOINT_URL} · topic ${topic} (${partitions} partitions)`);

  const truth = new GroundTruth();
  const reports = new RuntimeReports();
  stopAll.push(async () => reports.close());
  const kafka = await createKafka(process.env, 'demo');
  await produceDemoRecords(kafka, topic, partitions, total, truth);
  log(`produced ${total} records`);

  // Same tuning as `cdk deploy` (cdk.json context), pointed at the demo topic.
  const settings = {
    ...mappingSettingsFromContext((k) => (cdkJson.context as Record<string, unknown>)[k]),
    topics: [topic],
    consumerGroupId: `${topic}-consumer`,
  };
  if (settings.filters?.length) {
    // The demo accounts for every record it produces; a filter drops some by design.
    throw new Error(
      "cdk.json's context has filters, which would drop demo records that npm start then counts as lost: remove them for npm start (the emulator applies filters; test/e2e/emulator.test.ts shows it).",
    );
  }
  // What the construct puts in the function's environment.
  process.env[ENV.reportBatchItemFailures] = String(effectiveMappingSettings(settings).reportBatchItemFailures);
  if (values.breaker) Object.assign(process.env, localBreakerEnvironment());
  // The example consumer, its own logic observed from outside the runtime, in sandboxes (worker
  // threads) that the emulator stops at a timeout, as Lambda does.
  const sandboxes = new SandboxPool({
    module: fileURLToPath(new URL('./recorded-consumer.ts', import.meta.url)),
    channels: [...RUNTIME_CHANNELS, RECORD_FINISHED_CHANNEL],
    warm: partitions,
    data: { idempotency: values.idempotency } satisfies RecordedConsumerData,
  });
  stopAll.push(() => sandboxes.close());
  // Route by the configured endpoint, not the queue URL's host (fauxqs names hosts the SDK cannot parse).
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  stopAll.push(async () => sqs.destroy());
  const emulator = new EventSourceMappingEmulator({
    kafka,
    topic,
    settings,
    bootstrapServers: services.env.KAFKA_BROKERS,
    // Deliveries counted here, outside the runtime (which may skip a record as already done).
    handler: truth.delivering(sandboxes.handler),
    onFailure: sqsOnFailureDestination(sqs, services.env.ON_FAILURE_QUEUE_URL),
  });
  stopAll.push(() => emulator.stop());
  services.lambdaApi.attach(emulator);
  await sandboxes.ready; // initialized before traffic, as provisioned concurrency
  const consumeStarted = Date.now();
  await emulator.start();
  if (values.breaker) {
    const resumer = await startResumerSchedule(emulator.functionName, log);
    stopAll.push(() => resumer.stop());
  }
  const s = emulator.stats;

  const progress = setInterval(() => {
    if (!process.stderr.isTTY) return;
    process.stderr.write(
      `\r${s.decided} accounted · ${s.processed} processed · ${s.retried} retried · ${s.deadLettered} dead-lettered · lag ${s.offsetLag}   `,
    );
  }, 250);
  stopAll.push(async () => clearInterval(progress));
  let complete = await until(
    () => s.decided >= total,
    () => emulator.error,
  );
  const firstPassMs = Date.now() - consumeStarted;

  // As in production: the consumer is paused (fixed, redeployed), the DLQ replayed, the consumer resumed.
  let replayed = 0;
  if (complete) {
    emulator.pause();
    const { handler: replay } = await import('../src/replay/index.js');
    replayed = (await replay({ maxMessages: 10_000 }, lambdaContext(Math.max(1_000, giveUpAt - Date.now()), 'replay'))).replayed;
    log(`\nreplayed ${replayed} dead letters onto ${topic}; consuming them again`);
    emulator.resume();
    complete = await until(
      () => s.decided >= total + replayed,
      () => emulator.error,
    );
  }
  clearInterval(progress);
  if (!complete) log(`\nthe deadline (--deadline ${deadlineMs / 1_000} s) passed with records still unaccounted for; stopping`);

  if (values.watch && complete) {
    log('--watch: consuming until Ctrl-C');
    await new Promise(() => undefined);
  }

  // The dead-letter queue's contents at the end: this run's topic only (the queue may be shared).
  try {
    await truth.readDeadLetters(sqs, services.env.DLQ_URL, topic);
  } catch (error) {
    log(`cannot read the dead-letter queue ${services.env.DLQ_URL}: ${(error as Error).message}; counting no record as dead-lettered`);
  }

  const t = truth.summary();
  const durationMs = Date.now() - started;
  const summary = {
    produced: t.produced,
    processed: t.processed,
    deadLettered: t.deadLettered,
    lost: t.lost,
    duplicates: t.duplicates,
    duplicateEffects: t.duplicateEffects,
    maxProcessedTimes: t.maxProcessedTimes,
    skippedAsDone: reports.skippedAsDone,
    retried: s.retried,
    replayed,
    redelivered: s.redelivered,
    pauses: services.lambdaApi.pauses,
    durationMs,
    recordsPerSecond: Math.round((total / firstPassMs) * 1_000),
    ...(t.lost > 0 ? { lostRecords: t.lostRecords } : {}),
  };
  log('');
  const rows: Array<[string, string | number]> = [
    ['produced', summary.produced],
    ['processed', summary.processed],
    ['dead-lettered', summary.deadLettered],
    ['lost', summary.lost],
    ['duplicates', summary.duplicates],
    ['dup. effects', summary.duplicateEffects],
    ['skipped as done', summary.skippedAsDone],
    ['retried', summary.retried],
    ['replayed', summary.replayed],
    ['redelivered', summary.redelivered],
    ['pauses (breaker)', summary.pauses],
    // The whole run, services started and a first broker build included; the rate, the first pass's.
    ['duration (whole run, incl. a first broker build)', `${(durationMs / 1_000).toFixed(1)} s`],
    ['records/s (first pass, before the replay)', summary.recordsPerSecond],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) console.log(`${name.padEnd(width)} ${String(value).padStart(10)}`);
  if (t.lost > 0) log(`lost (neither processed nor dead-lettered), first ${t.lostRecords.length}: ${t.lostRecords.join(', ')}`);
  if (values.json) console.log(JSON.stringify(summary));
  await shutdown();
  process.exit(t.lost === 0 ? 0 : 1);
} catch (error) {
  log(`\nnpm start failed: ${(error as Error).stack ?? String(error)}`);
  await shutdown();
  process.exit(1);
}
