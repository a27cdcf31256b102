// One timed consumer run for the end-to-end scenario, in a fresh Node process of its own (no JIT
// state or heap shared with the consumer it is compared with): the emulator with the example
// consumer, or the plain kafkajs baseline, reads the topic from the start in a new group.
// Argument: `emulator` or `kafkajs`; the topic, group and count come in the environment, with the
// embedded services' (KAFKA_BROKERS, ...). Posts `{ ms, steadyMs, invocations }` to the parent.
import cdkJson from '../cdk.json' with { type: 'json' };
import { createKafka } from '../src/kafka/kafka-connection.js';
import { mappingSettingsFromContext } from '../src/mapping/mapping-context.js';
import { EventSourceMappingEmulator } from '../local/esm/emulator.js';
import { consumeWithKafkajs } from './baselines/kafkajs-each-batch.js';
import { timeMs } from './measure.js';

export interface ConsumerRun {
  /** From connect to the last record handled. */
  readonly ms: number;
  /** From the first records handled to the last. */
  readonly steadyMs: number;
  /** The emulator's invocations (0 for kafkajs). */
  readonly invocations: number;
}

const consumer = process.argv[2];
const { BENCH_TOPIC: topic = '', BENCH_GROUP: group = '', BENCH_RECORDS } = process.env;
const records = Number(BENCH_RECORDS);

async function kafkajsRun(): Promise<ConsumerRun> {
  const kafka = await createKafka(process.env, group);
  let first = 0;
  const ms = await timeMs(async () => ({ firstHandledAt: first } = await consumeWithKafkajs(kafka, topic, group, records)));
  return { ms, steadyMs: performance.now() - first, invocations: 0 };
}

async function emulatorRun(): Promise<ConsumerRun> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // as npm start: no EMF lines on a laptop
  const kafka = await createKafka(process.env, group);
  // The mapping tuned as `cdk deploy` tunes it (cdk.json).
  const settings = {
    ...mappingSettingsFromContext((k) => (cdkJson.context as Record<string, unknown>)[k]),
    topics: [topic],
    consumerGroupId: group,
  };
  const { handler } = await import('../app/consumer/index.js');
  const emulator = new EventSourceMappingEmulator({
    kafka,
    topic,
    settings,
    bootstrapServers: process.env.KAFKA_BROKERS!,
    handler: (event, context) => handler(event, context),
  });
  let first = 0;
  const ms = await timeMs(async () => {
    await emulator.start();
    while (emulator.stats.decided < records) {
      if (emulator.error) throw emulator.error;
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (!first && emulator.stats.decided > 0) first = performance.now();
    }
  });
  const steadyMs = performance.now() - first;
  const { processed, deadLettered, invocations } = emulator.stats;
  if (processed !== records || deadLettered !== 0)
    throw new Error(`the emulator processed ${processed} and dead-lettered ${deadLettered} of ${records}`);
  return { ms, steadyMs, invocations };
}

if (consumer !== 'emulator' && consumer !== 'kafkajs')
  throw new Error(`end-to-end-consumer: expected "emulator" or "kafkajs", got ${consumer}`);
const run = await (consumer === 'emulator' ? emulatorRun() : kafkajsRun());
// The process ends with the run: each run has a group of its own, which nothing reads again.
process.send!(run, () => process.exit(0));
