// Scenario 5: 100,000 ~1 KB records through the event source mapping emulator and the
// example consumer, against a plain kafkajs eachBatch consumer doing the same decoding.
import { fork } from 'node:child_process';
import path from 'node:path';
import cdkJson from '../../cdk.json' with { type: 'json' };
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { mappingSettingsFromContext } from '../../src/mapping/mapping-context.js';
import { startLocalServices } from '../../local/services.js';
import type { ConsumerRun } from '../end-to-end-consumer.js';
import { orderJson } from '../fixtures.js';
import { median, progress, runScenario } from '../measure.js';
import { scenario } from '../results.js';

const RECORDS = 100_000;
const PARTITIONS = 10;
const TOPIC = 'end-to-end-bench';
const REBALANCE_DELAY_MS = 3_000;
const ROUNDS = 4;
const perSecond = (ms: number) => (RECORDS / ms) * 1_000;

/** One consumer's timed run, in a fresh Node process (bench/end-to-end-consumer.ts). */
function runConsumer(consumer: 'emulator' | 'kafkajs', group: string): Promise<ConsumerRun> {
  return new Promise((resolve, reject) => {
    const child = fork(path.resolve('bench/end-to-end-consumer.ts'), [consumer], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, BENCH_TOPIC: TOPIC, BENCH_GROUP: group, BENCH_RECORDS: String(RECORDS) },
    });
    let run: ConsumerRun | undefined;
    child.on('message', (m: ConsumerRun) => (run = m));
    child.once('exit', (code) => (run ? resolve(run) : reject(new Error(`the ${consumer} run failed (exit ${code})`))));
  });
}

runScenario(async () => {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  // Kafka's (and MSK's) 3 s initial rebalance delay, not the 0 of local runs: a mapping's pollers
  // pay that join, and so does every consumer measured here.
  const services = await startLocalServices({
    topic: TOPIC,
    partitions: PARTITIONS,
    environment: {},
    initialRebalanceDelayMs: REBALANCE_DELAY_MS,
  });
  try {
    Object.assign(process.env, services.env); // for the consumers' processes too
    const kafka = await createKafka(process.env, 'end-to-end-bench');
    const producer = kafka.producer();
    await producer.connect();
    // 500 records per partition per request: the mock broker serves one record batch per partition per fetch.
    const perRequest = 500 * PARTITIONS;
    for (let i = 0; i < RECORDS; i += perRequest) {
      const messages = Array.from({ length: Math.min(perRequest, RECORDS - i) }, (_, j) => ({
        key: `order-${(i + j) % 1_000}`,
        value: orderJson(i + j),
        partition: (i + j) % PARTITIONS,
      }));
      await producer.send({ topic: TOPIC, acks: -1, messages });
    }
    await producer.disconnect();
    progress(`produced ${RECORDS} records`);

    // Each round times both consumers, each in a fresh process and a group of its own, from
    // connect to the last record and in the steady state (from the first records handled to the
    // last). A run lasts seconds, and on a shared machine one run's second can go at another
    // speed than the next one's: the rounds alternate which consumer goes first, and the figures
    // are each consumer's median over the rounds.
    let invocations = 0;
    const rounds: Array<{ ours: number; kafkajs: number; oursSteady: number; kafkajsSteady: number }> = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 === 1 ? (['kafkajs', 'emulator'] as const) : (['emulator', 'kafkajs'] as const);
      const runs = new Map<string, ConsumerRun>();
      for (const consumer of order) runs.set(consumer, await runConsumer(consumer, `${consumer}-bench-${round}`));
      const [o, k] = [runs.get('emulator')!, runs.get('kafkajs')!];
      invocations = o.invocations;
      const r = {
        ours: perSecond(o.ms),
        kafkajs: perSecond(k.ms),
        oursSteady: perSecond(o.steadyMs),
        kafkajsSteady: perSecond(k.steadyMs),
      };
      rounds.push(r);
      progress(
        `round ${round} (${order[0]} first): emulator ${Math.round(r.ours)} records/s in ${invocations} invocations (steady ${Math.round(r.oursSteady)}); kafkajs ${Math.round(r.kafkajs)} records/s (steady ${Math.round(r.kafkajsSteady)})`,
      );
    }

    const of = (key: keyof (typeof rounds)[number]) => median(rounds.map((r) => r[key]));
    return [
      scenario(
        'end-to-end',
        'records/s',
        true,
        of('ours'),
        { kafkajs: of('kafkajs') },
        {
          records: RECORDS,
          partitions: PARTITIONS,
          recordBytes: 1_024,
          batchSize: mappingSettingsFromContext((k) => (cdkJson.context as Record<string, unknown>)[k]).batchSize,
          invocations,
          broker: 'librdkafka mock cluster (1 broker)',
          initialRebalanceDelayMs: REBALANCE_DELAY_MS,
          measured: `from connect to the last record handled, group join included; each run in a fresh process, each consumer's median of ${ROUNDS} rounds, alternating which goes first`,
          steadyRecordsPerSecond: { ours: Math.round(of('oursSteady')), kafkajs: Math.round(of('kafkajsSteady')) },
          steadyRatio: Number((of('oursSteady') / of('kafkajsSteady')).toFixed(3)),
          steadyRounds: rounds.map((r) => ({ ours: Math.round(r.oursSteady), kafkajs: Math.round(r.kafkajsSteady) })),
        },
      ),
    ];
  } finally {
    await services.stop();
  }
});
