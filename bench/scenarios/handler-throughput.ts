// Scenario 1: one event of N ~1 KB JSON records over 10 partitions and a no-op user
// function, through our handler and its peers, best of several runs after warm-up.
import { kafkaConsumer } from '../../src/runtime/index.js';
import type { KafkaEvent } from '../../src/runtime/event.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { floorHandler } from '../baselines/floor.js';
import { middyHandler } from '../baselines/middy-normalizer.js';
import { powertoolsHandler } from '../baselines/powertools-kafka.js';
import { noop, orderEventText, type BenchHandler } from '../fixtures.js';
import { progress, runScenario, timeMs } from '../measure.js';
import { scenario } from '../results.js';

const PARTITIONS = 10;
const RECORD_BYTES = 1_024;

const ours = kafkaConsumer({ processRecord: (record) => noop(record.value) });
const handlers: Record<string, BenchHandler> = {
  ours: (event, context) => ours(event, context),
  floor: floorHandler(noop),
  powertools: powertoolsHandler(noop),
  middy: middyHandler(noop),
};

const RECORDS_PER_SAMPLE = 10_000;
const WARMUP_SAMPLES = 5;
const TIMED_SAMPLES = 25;

async function measure(records: number) {
  const text = orderEventText(records, PARTITIONS, { bytes: RECORD_BYTES });
  // A sample is as many back-to-back invocations as make 10,000 records, so every batch
  // size is timed over the same work and a garbage collection before each sample is cheap.
  const invocations = RECORDS_PER_SAMPLE / records;
  const best: Record<string, number> = Object.fromEntries(Object.keys(handlers).map((name) => [name, Infinity]));
  for (let sample = 0; sample < WARMUP_SAMPLES + TIMED_SAMPLES; sample++) {
    // Interleaved, so a slow moment of the machine hits every handler alike.
    for (const [name, handler] of Object.entries(handlers)) {
      // The Lambda runtime's parse of each payload, not timed.
      const events = Array.from({ length: invocations }, () => JSON.parse(text) as KafkaEvent);
      const context = lambdaContext(60_000);
      const ms = await timeMs(async () => {
        for (const event of events) await handler(event, context);
      });
      if (sample >= WARMUP_SAMPLES) best[name] = Math.min(best[name]!, ms);
    }
  }
  const perSecond = (name: string) => (RECORDS_PER_SAMPLE / best[name]!) * 1_000;
  progress(
    `${records} records: ${Object.keys(handlers)
      .map((n) => `${n} ${Math.round(perSecond(n))}/s`)
      .join(', ')}`,
  );
  return scenario(
    `handler-throughput-${records}`,
    'records/s',
    true,
    perSecond('ours'),
    { floor: perSecond('floor'), powertools: perSecond('powertools'), middy: perSecond('middy') },
    {
      records,
      partitions: PARTITIONS,
      recordBytes: RECORD_BYTES,
      userFunction: 'no-op',
      invocationsPerSample: invocations,
      timedSamples: TIMED_SAMPLES,
      warmupSamples: WARMUP_SAMPLES,
      statistic: 'best sample',
    },
  );
}

runScenario(async () => [await measure(100), await measure(1_000), await measure(10_000)]);
