// `npm start [-- --records N] [--json] [--watch]`: the whole flow on one machine. Starts the
// embedded broker and SQS/S3 (or uses KAFKA_BROKERS / AWS_ENDPOINT_URL), produces a demo
// workload, runs the example consumer behind the event source mapping emulator until every
// record is accounted for, replays the dead letters and consumes them again, then prints a summary.
import { parseArgs } from 'node:util';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startLocalServices } from './services';
import { demoRecord } from './demo-workload';
import { EventSourceMappingEmulator } from './esm/emulator';
import { lambdaContext } from './esm/lambda-context';
import { createKafka } from '../functions/runtime/kafka-connection';
import { effectiveMappingSettings, mappingSettingsFromContext } from '../lib/mapping-settings';
import cdkJson from '../cdk.json' with { type: 'json' };

const { values } = parseArgs({ options: { records: { type: 'string', default: '10000' }, json: { type: 'boolean', default: false }, watch: { type: 'boolean', default: false }, partitions: { type: 'string', default: '6' } } });
const total = Number(values.records);
const partitions = Number(values.partitions);
if (!Number.isInteger(total) || total < 1) throw new Error(`--records must be a whole number ≥ 1, got ${values.records}`);
if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`--partitions must be a whole number ≥ 1, got ${values.partitions}`);

// Quiet the in-process handlers: the summary is the output.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const started = Date.now();
const topic = `orders-demo-${started}`;
const log = (line: string) => process.stderr.write(`${line}\n`);
const services = await startLocalServices({ topic, partitions });
const stopAll: Array<() => Promise<void>> = [() => services.stop()];
const shutdown = async () => {
  for (const stop of stopAll.reverse()) await stop().catch(() => undefined);
};
process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
process.once('SIGTERM', () => void shutdown().then(() => process.exit(143)));

try {
  Object.assign(process.env, services.env, { KAFKA_TOPIC: topic, REPLAY_ALLOWED_TOPICS: topic });
  if (services.kafka) process.env.KAFKA_IDEMPOTENT_PRODUCER ??= 'false';
  log(`kafka ${services.env.KAFKA_BROKERS} · sqs/s3 ${services.env.AWS_ENDPOINT_URL} · topic ${topic} (${partitions} partitions)`);

  const kafka = await createKafka(process.env, 'demo');
  const producer = kafka.producer();
  await producer.connect();
  for (let i = 0; i < total; i += 1_000) {
    const messages = Array.from({ length: Math.min(1_000, total - i) }, (_, j) => demoRecord(i + j));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
  log(`produced ${total} records`);

  // Same tuning as `cdk deploy` (cdk.json context), pointed at the demo topic.
  const settings = { ...mappingSettingsFromContext((k) => (cdkJson.context as Record<string, unknown>)[k]), topics: [topic], consumerGroupId: `${topic}-consumer` };
  // What the construct puts in the function's environment.
  process.env.REPORT_BATCH_ITEM_FAILURES = String(effectiveMappingSettings(settings).reportBatchItemFailures);
  const { handler: consumer } = await import('../functions/consumer/index');
  const sqs = new SQSClient({});
  stopAll.push(async () => sqs.destroy());
  const emulator = new EventSourceMappingEmulator({
    kafka, topic, settings, bootstrapServers: services.env.KAFKA_BROKERS,
    handler: (event, context) => consumer(event, context),
    onFailure: async (message) => void (await sqs.send(new SendMessageCommand({ QueueUrl: services.env.ON_FAILURE_QUEUE_URL, MessageBody: JSON.stringify(message) }))),
  });
  stopAll.push(() => emulator.stop());
  const consumeStarted = Date.now();
  await emulator.start();
  const s = emulator.stats;

  const progress = setInterval(() => {
    if (!process.stderr.isTTY) return;
    process.stderr.write(`\r${s.decided} accounted · ${s.processed} processed · ${s.retried} retried · ${s.deadLettered} dead-lettered · lag ${s.offsetLag}   `);
  }, 250);
  stopAll.push(async () => clearInterval(progress));
  const until = async (done: () => boolean) => {
    while (!done()) {
      if (emulator.error) throw emulator.error; // e.g. a batch it cannot decode: say so, do not wait forever
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  await until(() => s.decided >= total);
  const firstPassMs = Date.now() - consumeStarted;

  // As in production: the consumer is paused (fixed, redeployed), the DLQ replayed, the consumer resumed.
  emulator.pause();
  const { handler: replay } = await import('../functions/replay/index');
  const replayed = await replay({ maxMessages: 10_000 }, lambdaContext(300_000, 'replay'));
  log(`\nreplayed ${replayed.replayed} dead letters onto ${topic}; consuming them again`);
  emulator.resume();
  await until(() => s.decided >= total + replayed.replayed);
  clearInterval(progress);

  if (values.watch) {
    log('--watch: consuming until Ctrl-C');
    await new Promise(() => undefined);
  }

  // Every produced offset, and every replayed one, must have been processed or dead-lettered;
  // records the mapping committed unprocessed (partial responses ignored) are lost too.
  const lost = Math.max(0, total + replayed.replayed - s.decided) + s.lost;
  const durationMs = Date.now() - started;
  const summary = {
    produced: total,
    processed: s.processed,
    retried: s.retried,
    deadLettered: s.deadLettered,
    replayed: replayed.replayed,
    redelivered: s.redelivered,
    lost,
    duplicates: s.duplicates,
    durationMs,
    recordsPerSecond: Math.round((total / firstPassMs) * 1_000),
  };
  log('');
  const rows: Array<[string, string | number]> = [
    ['produced', summary.produced], ['processed', summary.processed], ['retried', summary.retried], ['dead-lettered', summary.deadLettered],
    ['replayed', summary.replayed], ['redelivered', summary.redelivered], ['lost', summary.lost], ['duration', `${(durationMs / 1_000).toFixed(1)} s`], ['records/s', summary.recordsPerSecond],
  ];
  for (const [name, value] of rows) console.log(`${name.padEnd(14)} ${String(value).padStart(10)}`);
  if (values.json) console.log(JSON.stringify(summary));
  await shutdown();
  process.exit(lost === 0 ? 0 : 1);
} catch (error) {
  log(`\nnpm start failed: ${(error as Error).stack ?? String(error)}`);
  await shutdown();
  process.exit(1);
}
