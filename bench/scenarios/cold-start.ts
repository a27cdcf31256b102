// Scenario 3: the consumer bundle as `cdk deploy` builds it, its size, and module load plus
// first invocation in fresh Node processes, next to the same handler written the usual way.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OUT_DIR, bundle, runProbe } from '../bundles.js';
import { orderEventText } from '../fixtures.js';
import { median, progress, runScenario } from '../measure.js';
import { scenario } from '../results.js';

const PROCESSES = 15;

runScenario(async () => {
  const ours = await bundle('app/consumer/index.ts', 'consumer');
  const eager = await bundle('bench/baselines/eager-handler.ts', 'eager-consumer');
  mkdirSync(OUT_DIR, { recursive: true });
  const eventFile = path.join(OUT_DIR, 'cold-start-event.json');
  writeFileSync(eventFile, orderEventText(10, 2));

  const times: Record<string, number[]> = { ours: [], eager: [] };
  for (let i = 0; i < PROCESSES; i++) {
    // A new process loads each bundle and handles one small event, alternately.
    times.ours!.push((await runProbe<{ ms: number }>('cold-start', [ours.file, eventFile])).ms);
    times.eager!.push((await runProbe<{ ms: number }>('cold-start', [eager.file, eventFile])).ms);
  }
  const oursMs = median(times.ours!);
  const eagerMs = median(times.eager!);
  progress(`bundle ${ours.bytes} bytes (eager ${eager.bytes}); cold start median ${oursMs.toFixed(1)} ms (eager ${eagerMs.toFixed(1)} ms)`);
  const shared = {
    baseline: 'Powertools Logger + Metrics middlewares, middy, SQS client built at load',
    bundling: 'esbuild as the CDK app: minified, CJS, node24, @aws-sdk/client-* external, no source maps',
  };
  return [
    scenario('cold-start-bytes', 'bytes', false, ours.bytes, { powertools: eager.bytes }, shared),
    scenario(
      'cold-start-ms',
      'ms',
      false,
      oursMs,
      { powertools: eagerMs },
      {
        ...shared,
        processes: PROCESSES,
        statistic: 'median',
        measured: 'require() of the bundle + first invocation (10 records), NODE_OPTIONS as the CDK app sets it',
      },
    ),
  ];
});
