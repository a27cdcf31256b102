// One handler's timed run for the handler-throughput scenario, in a fresh Node process of its
// own (no JIT state, inline caches or heap shared with the handlers it is compared with).
// Arguments: the handler's name (ours, ours-traced, floor, powertools, middy) and the records per event.
// Posts `{ ms }`: the best of the timed samples, each as many invocations as make 10,000 records.
import { fileURLToPath } from 'node:url';
import type { KafkaEvent } from '../src/runtime/event.js';
import { lambdaContext } from '../local/esm/lambda-context.js';
import { noop, orderEventText, type BenchHandler } from './fixtures.js';
import { timeMs } from './measure.js';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

export const HANDLERS = ['ours', 'ours-traced', 'floor', 'powertools', 'middy'] as const;
export type HandlerName = (typeof HANDLERS)[number];
export const PARTITIONS = 10;
export const RECORD_BYTES = 1_024;
export const RECORDS_PER_SAMPLE = 10_000;
export const WARMUP_SAMPLES = 5;
export const TIMED_SAMPLES = 15;

export interface HandlerRun {
  readonly ms: number;
}

// Only the handler measured is loaded: the others' modules would warm shared code for it.
async function load(name: HandlerName): Promise<BenchHandler> {
  switch (name) {
    case 'ours':
    case 'ours-traced': {
      // ours-traced: an OpenTelemetry SDK registered, as a function would (the ADOT layer does it before the
      // handler loads), every span sampled and recorded; `ours` has none, so its tracing is off.
      if (name === 'ours-traced') await registerTracingSdk();
      const { kafkaConsumer } = await import('../src/runtime/index.js');
      const ours = kafkaConsumer({ processRecord: (record) => noop(record.value) });
      return (event, context) => ours(event, context);
    }
    case 'floor':
      return (await import('./baselines/floor.js')).floorHandler(noop);
    case 'powertools':
      return (await import('./baselines/powertools-kafka.js')).powertoolsHandler(noop);
    case 'middy':
      return (await import('./baselines/middy-normalizer.js')).middyHandler(noop);
  }
}

async function registerTracingSdk(): Promise<void> {
  const [{ context, propagation, trace }, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, sdk] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  // Exported to nowhere: the cost measured is the runtime's and the SDK's, not an exporter's.
  const nowhere: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined };
  trace.setGlobalTracerProvider(
    new sdk.BasicTracerProvider({ sampler: new sdk.AlwaysOnSampler(), spanProcessors: [new sdk.SimpleSpanProcessor(nowhere)] }),
  );
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

async function bestSampleMs(handler: BenchHandler, records: number): Promise<number> {
  const text = orderEventText(records, PARTITIONS, { bytes: RECORD_BYTES });
  const invocations = RECORDS_PER_SAMPLE / records;
  let best = Infinity;
  for (let sample = 0; sample < WARMUP_SAMPLES + TIMED_SAMPLES; sample++) {
    // The Lambda runtime's parse of each payload, not timed.
    const events = Array.from({ length: invocations }, () => JSON.parse(text) as KafkaEvent);
    const context = lambdaContext(60_000);
    const ms = await timeMs(async () => {
      for (const event of events) await handler(event, context);
    });
    if (sample >= WARMUP_SAMPLES) best = Math.min(best, ms);
  }
  return best;
}

// Run as a script (forked by the scenario), not when the scenario imports the constants above.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const name = process.argv[2] as HandlerName;
  const records = Number(process.argv[3]);
  if (!HANDLERS.includes(name) || !(RECORDS_PER_SAMPLE % records === 0)) {
    process.stderr.write(`usage: handler-run.ts <${HANDLERS.join('|')}> <records dividing ${RECORDS_PER_SAMPLE}>\n`);
    process.exit(2);
  }
  const run: HandlerRun = { ms: await bestSampleMs(await load(name), records) };
  process.send(run, () => process.exit(0));
}
