// Scenario 5: 100,000 ~1 KB records through the event source mapping emulator and the
// example consumer, against a plain kafkajs eachBatch consumer doing the same decoding.
import cdkJson from '../../cdk.json' with { type: 'json' };
import { createKafka } from '../../functions/replay/kafka-connection';
import { mappingSettingsFromContext } from '../../lib/mapping-settings';
import { EventSourceMappingEmulator } from '../../local/esm/emulator';
import { startLocalServices } from '../../local/services';
import { consumeWithKafkajs } from '../baselines/kafkajs-each-batch';
import { orderJson } from '../fixtures';
import { progress, runScenario, timeMs } from '../measure';
import { scenario } from '../results';

const RECORDS = 100_000;
const PARTITIONS = 10;
const TOPIC = 'end-to-end-bench';
const REBALANCE_DELAY_MS = 3_000;

runScenario(async () => {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true'; // as npm start: no EMF lines on a laptop
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  // Kafka's (and MSK's) 3 s initial rebalance delay, not the 0 of local runs: a mapping's pollers
  // pay that join, and so does every consumer measured here.
  const services = await startLocalServices({ topic: TOPIC, partitions: PARTITIONS, environment: {}, initialRebalanceDelayMs: REBALANCE_DELAY_MS });
  try {
    Object.assign(process.env, services.env);
    const kafka = await createKafka(process.env, 'end-to-end-bench');
    const producer = kafka.producer();
    await producer.connect();
    // 500 records per partition per request: the mock broker serves one record batch per partition per fetch.
    const perRequest = 500 * PARTITIONS;
    for (let i = 0; i < RECORDS; i += perRequest) {
      const messages = Array.from({ length: Math.min(perRequest, RECORDS - i) }, (_, j) => ({ key: `order-${(i + j) % 1_000}`, value: orderJson(i + j), partition: (i + j) % PARTITIONS }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
    await producer.disconnect();
    progress(`produced ${RECORDS} records`);

    // Timed from connect to the last record; the steady state from the first records handled to the last.
    let kafkajsFirst = 0;
    const kafkajsMs = await timeMs(async () => ({ firstHandledAt: kafkajsFirst } = await consumeWithKafkajs(kafka, TOPIC, 'kafkajs-bench', RECORDS)));
    const kafkajsSteadyMs = performance.now() - kafkajsFirst;

    // The mapping tuned as `cdk deploy` tunes it (cdk.json).
    const settings = { ...mappingSettingsFromContext((k) => (cdkJson.context as Record<string, unknown>)[k]), topics: [TOPIC], consumerGroupId: 'esm-bench' };
    const { handler } = await import('../../functions/consumer/index');
    const emulator = new EventSourceMappingEmulator({ kafka, topic: TOPIC, settings, bootstrapServers: services.env.KAFKA_BROKERS, handler: (event, context) => handler(event, context) });
    let oursFirst = 0;
    const oursMs = await timeMs(async () => {
      await emulator.start();
      while (emulator.stats.decided < RECORDS) {
        if (emulator.error) throw emulator.error;
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (!oursFirst && emulator.stats.decided > 0) oursFirst = performance.now();
      }
    });
    const oursSteadyMs = performance.now() - oursFirst;
    const { processed, deadLettered, invocations } = emulator.stats;
    emulator.pause();
    if (processed !== RECORDS || deadLettered !== 0) throw new Error(`the emulator processed ${processed} and dead-lettered ${deadLettered} of ${RECORDS}`);

    const perSecond = (ms: number) => (RECORDS / ms) * 1_000;
    progress(`emulator ${Math.round(perSecond(oursMs))} records/s in ${invocations} invocations (steady ${Math.round(perSecond(oursSteadyMs))}); kafkajs ${Math.round(perSecond(kafkajsMs))} records/s (steady ${Math.round(perSecond(kafkajsSteadyMs))})`);
    return [
      scenario('end-to-end', 'records/s', true, perSecond(oursMs), { kafkajs: perSecond(kafkajsMs) }, {
        records: RECORDS, partitions: PARTITIONS, recordBytes: 1_024, batchSize: settings.batchSize, invocations,
        broker: 'librdkafka mock cluster (1 broker)', initialRebalanceDelayMs: REBALANCE_DELAY_MS, measured: 'from connect to the last record handled, group join included, one run each',
        steadyRecordsPerSecond: { ours: Math.round(perSecond(oursSteadyMs)), kafkajs: Math.round(perSecond(kafkajsSteadyMs)) },
        steadyRatio: Number((kafkajsSteadyMs / oursSteadyMs).toFixed(3)),
      }),
    ];
  } finally {
    await services.stop();
  }
});
