// Scenario 5: 100,000 ~1 KB records through the event source mapping emulator and the
// example consumer, against a plain kafkajs eachBatch consumer doing the same decoding.
import cdkJson from '../../cdk.json' with { type: 'json' };
import { createKafka } from '../../functions/replay/kafka-connection';
import { mappingSettingsFromContext } from '../../lib/mapping-settings';
import { EventSourceMappingEmulator } from '../../local/esm/emulator';
import { startLocalServices } from '../../local/services';
import { consumeWithKafkajs } from '../baselines/kafkajs-each-batch';
import { orderJson } from '../fixtures';
import { median, progress, runScenario, timeMs } from '../measure';
import { scenario } from '../results';

const RECORDS = 100_000;
const PARTITIONS = 10;
const TOPIC = 'end-to-end-bench';
const REBALANCE_DELAY_MS = 3_000;
const ROUNDS = 4;
const perSecond = (ms: number) => (RECORDS / ms) * 1_000;

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

    // Each round times both consumers, each in a group of its own, from connect to the last record
    // and in the steady state (from the first records handled to the last). A round lasts seconds,
    // and on a shared machine one consumer's second can run at another speed than the other's; and
    // whichever runs second finds kafkajs's code warm and the heap grown. So the rounds alternate
    // which goes first, and the figures are each consumer's median over the rounds.
    const settings = { ...mappingSettingsFromContext((k) => (cdkJson.context as Record<string, unknown>)[k]), topics: [TOPIC] };
    const { handler } = await import('../../functions/consumer/index');
    let invocations = 0;
    const kafkajsRun = async (round: number) => {
      let first = 0;
      const ms = await timeMs(async () => ({ firstHandledAt: first } = await consumeWithKafkajs(kafka, TOPIC, `kafkajs-bench-${round}`, RECORDS)));
      return { ms, steadyMs: performance.now() - first };
    };
    const oursRun = async (round: number) => {
      // The mapping tuned as `cdk deploy` tunes it (cdk.json).
      const emulator = new EventSourceMappingEmulator({ kafka, topic: TOPIC, settings: { ...settings, consumerGroupId: `esm-bench-${round}` }, bootstrapServers: services.env.KAFKA_BROKERS, handler: (event, context) => handler(event, context) });
      let first = 0;
      const ms = await timeMs(async () => {
        await emulator.start();
        while (emulator.stats.decided < RECORDS) {
          if (emulator.error) throw emulator.error;
          await new Promise((resolve) => setTimeout(resolve, 2));
          if (!first && emulator.stats.decided > 0) first = performance.now();
        }
      });
      const steadyMs = performance.now() - first;
      const { processed, deadLettered } = emulator.stats;
      ({ invocations } = emulator.stats);
      emulator.pause();
      if (processed !== RECORDS || deadLettered !== 0) throw new Error(`the emulator processed ${processed} and dead-lettered ${deadLettered} of ${RECORDS}`);
      return { ms, steadyMs };
    };
    const rounds: Array<{ ours: number; kafkajs: number; oursSteady: number; kafkajsSteady: number }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const kafkajsFirst = round % 2 === 1;
      let k, o;
      if (kafkajsFirst) {
        k = await kafkajsRun(round);
        o = await oursRun(round);
      } else {
        o = await oursRun(round);
        k = await kafkajsRun(round);
      }
      const r = { ours: perSecond(o.ms), kafkajs: perSecond(k.ms), oursSteady: perSecond(o.steadyMs), kafkajsSteady: perSecond(k.steadyMs) };
      rounds.push(r);
      progress(`round ${round} (${kafkajsFirst ? 'kafkajs' : 'emulator'} first): emulator ${Math.round(r.ours)} records/s in ${invocations} invocations (steady ${Math.round(r.oursSteady)}); kafkajs ${Math.round(r.kafkajs)} records/s (steady ${Math.round(r.kafkajsSteady)})`);
    }

    const of = (key: keyof (typeof rounds)[number]) => median(rounds.map((r) => r[key]));
    return [
      scenario('end-to-end', 'records/s', true, of('ours'), { kafkajs: of('kafkajs') }, {
        records: RECORDS, partitions: PARTITIONS, recordBytes: 1_024, batchSize: settings.batchSize, invocations,
        broker: 'librdkafka mock cluster (1 broker)', initialRebalanceDelayMs: REBALANCE_DELAY_MS,
        measured: `from connect to the last record handled, group join included; each consumer's median of ${ROUNDS} rounds, alternating which goes first`,
        steadyRecordsPerSecond: { ours: Math.round(of('oursSteady')), kafkajs: Math.round(of('kafkajsSteady')) },
        steadyRatio: Number((of('oursSteady') / of('kafkajsSteady')).toFixed(3)),
        steadyRounds: rounds.map((r) => ({ ours: Math.round(r.oursSteady), kafkajs: Math.round(r.kafkajsSteady) })),
      }),
    ];
  } finally {
    await services.stop();
  }
});
