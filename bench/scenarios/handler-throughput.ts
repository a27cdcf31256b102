// Scenario 1: one event of N ~1 KB JSON records over 10 partitions and a no-op user
// function, through our handler and its peers, and through ours with tracing on (`ours-traced`: an
// OpenTelemetry SDK registered, every span recorded; `ours` has none, so its tracing is off): the
// ratio ours / ours-traced is what tracing costs when on, `ours` against earlier runs what it costs
// off. A handler's figure from one process is at the mercy of one slow moment of a shared
// machine: each round runs every handler in a fresh process (bench/handler-run.ts, best of its
// samples), the rounds rotate which goes first, and the figures are each handler's median over
// the rounds, with each round's ratios for the spread.
import { fork } from 'node:child_process';
import path from 'node:path';
import {
  HANDLERS,
  PARTITIONS,
  RECORD_BYTES,
  RECORDS_PER_SAMPLE,
  TIMED_SAMPLES,
  WARMUP_SAMPLES,
  type HandlerName,
  type HandlerRun,
} from '../handler-run.js';
import { median, progress, runScenario } from '../measure.js';
import { scenario } from '../results.js';

const ROUNDS = 5;
const BASELINES = HANDLERS.filter((h) => h !== 'ours');

function runHandler(name: HandlerName, records: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(path.resolve('bench/handler-run.ts'), [name, String(records)], { execArgv: ['--import', 'tsx', '--expose-gc'] });
    let run: HandlerRun | undefined;
    child.on('message', (m: HandlerRun) => (run = m));
    child.once('exit', (code) =>
      run ? resolve((RECORDS_PER_SAMPLE / run.ms) * 1_000) : reject(new Error(`the ${name} run failed (exit ${code})`)),
    );
  });
}

async function measure(records: number) {
  const rounds: Array<Record<HandlerName, number>> = [];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated, so that no handler always runs first (or right after the same one).
    const order = HANDLERS.map((_, i) => HANDLERS[(i + round) % HANDLERS.length]!);
    const perSecond = {} as Record<HandlerName, number>;
    for (const name of order) perSecond[name] = await runHandler(name, records);
    rounds.push(perSecond);
  }
  const of = (name: HandlerName) => median(rounds.map((r) => r[name]));
  const spread = Object.fromEntries(
    BASELINES.map((b) => {
      const ratios = rounds.map((r) => r.ours / r[b]);
      return [b, { min: Number(Math.min(...ratios).toFixed(3)), max: Number(Math.max(...ratios).toFixed(3)) }];
    }),
  );
  progress(
    `${records} records, median of ${ROUNDS} rounds: ${HANDLERS.map((n) => `${n} ${Math.round(of(n))}/s`).join(', ')}; ` +
      `ours/baseline per round: ${BASELINES.map((b) => `${b} ${spread[b]!.min}–${spread[b]!.max}`).join(', ')}`,
  );
  return scenario(`handler-throughput-${records}`, 'records/s', true, of('ours'), Object.fromEntries(BASELINES.map((b) => [b, of(b)])), {
    records,
    partitions: PARTITIONS,
    recordBytes: RECORD_BYTES,
    userFunction: 'no-op',
    invocationsPerSample: RECORDS_PER_SAMPLE / records,
    timedSamples: TIMED_SAMPLES,
    warmupSamples: WARMUP_SAMPLES,
    rounds: ROUNDS,
    statistic: `each handler's median over ${ROUNDS} rounds, each round a fresh process per handler (best sample), rotating which goes first`,
    roundRatios: spread,
  });
}

runScenario(async () => [await measure(100), await measure(1_000), await measure(10_000)]);
