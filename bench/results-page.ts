// docs/results.md, generated from what the runs wrote (bench/results.json, bench/chaos-results.json),
// so that no figure is typed twice or goes stale in prose. `npm run docs:results` writes it; a unit
// test fails when the page no longer matches the JSON.
import { readFileSync } from 'node:fs';
import { markdownTable, type BenchReport } from './results.js';

export const RESULTS_PAGE = 'docs/results.md';
export const BENCH_RESULTS = 'bench/results.json';
export const CHAOS_RESULTS = 'bench/chaos-results.json';

/** One long `npm run chaos` run, from the summary it printed. */
export interface ChaosRun {
  readonly command: string;
  readonly date: string;
  readonly machine: string;
  readonly faults: 'all' | 'none';
  readonly produced: number;
  readonly processed: number;
  readonly deadLettered: number;
  readonly lost: number;
  /** Records delivered to the function more than once. @default not counted (runs before issue 32) */
  readonly duplicates?: number;
  /** Records the function finished more than once. */
  readonly duplicateEffects: number;
  readonly maxProcessedTimes: number;
  /** Records the runtime's idempotency ledger skipped as done (runs with `--idempotency`). */
  readonly skippedAsDone?: number;
  readonly replayed: number;
  readonly durationSeconds: number;
  readonly recordsPerSecond: number;
  readonly rssStartMiB: number;
  readonly rssEndMiB: number;
  readonly faultsInjected?: Record<string, number>;
  readonly consumerCrashes?: number;
  readonly consumerStalls?: number;
  readonly exitCode?: number;
}

export interface ChaosResults {
  readonly runs: ChaosRun[];
}

const count = (n: number) => n.toLocaleString('en-US');

function benchSection(r: BenchReport): string[] {
  const lines = [
    '## Benchmarks',
    '',
    `\`npm run bench\`, ${r.date.slice(0, 10)}. What each scenario runs and against what: [Performance](performance.md).`,
    '',
    markdownTable(r),
  ];
  for (const s of r.scenarios) {
    const spread = s.inputs.roundRatios as Record<string, { min: number; max: number }> | undefined;
    if (!spread) continue;
    const ranges = Object.entries(spread).map(([b, { min, max }]) => `${b} ${min.toFixed(2)}–${max.toFixed(2)}×`);
    lines.push('', `\`${s.id}\`: medians of ${String(s.inputs.rounds)} rounds; one round's ratio ranged ${ranges.join(', ')}.`);
  }
  const endToEnd = r.scenarios.find((s) => s.id === 'end-to-end')?.inputs;
  const steady = endToEnd?.steadyRecordsPerSecond as { ours: number; kafkajs: number } | undefined;
  if (endToEnd && steady) {
    const rounds = (endToEnd.steadyRounds as { ours: number; kafkajs: number }[]).map((x) => `${(x.ours / x.kafkajs).toFixed(2)}×`);
    lines.push(
      '',
      `\`end-to-end\` steady state (from the first records handled to the last): ours ${count(steady.ours)} records/s, ` +
        `plain kafkajs ${count(steady.kafkajs)}: **${Number(endToEnd.steadyRatio).toFixed(2)}×** (rounds: ${rounds.join(', ')}).`,
    );
  }
  const memory = r.scenarios.find((s) => s.id === 'memory');
  if (memory && typeof memory.inputs.runtimeBytes === 'number' && typeof memory.inputs.batchBytes === 'number') {
    lines.push(
      '',
      `\`memory\`: the handler raised peak RSS by ${(memory.ours / memory.inputs.batchBytes).toFixed(1)}× the payload; ` +
        `the runtime's own payload text and parse add ${(memory.inputs.runtimeBytes / memory.inputs.batchBytes).toFixed(1)}× more, for any handler.`,
    );
  }
  lines.push('', '### Inputs of each scenario', '');
  for (const s of r.scenarios) {
    const inputs = Object.entries(s.inputs).map(([k, v]) => `${k} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    lines.push(`- \`${s.id}\`: ${inputs.join('; ')}`);
  }
  return lines;
}

function chaosSection(c: ChaosResults): string[] {
  const lines = [
    '## Chaos and soak runs',
    '',
    'Long `npm run chaos` runs; what each fault does and what the counts mean: [Reliability](reliability.md).',
    '',
    '| run | date | produced | processed | dead-lettered | lost | delivered twice+ | finished twice+ (max) | replayed | duration | records/s | rss at 20% → 100% |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |',
  ];
  for (const run of c.runs) {
    lines.push(
      `| \`${run.command}\` | ${run.date} | ${count(run.produced)} | ${count(run.processed)} | ${count(run.deadLettered)} | **${count(run.lost)}** | ` +
        `${run.duplicates === undefined ? 'not counted' : count(run.duplicates)} | ${count(run.duplicateEffects)} (${run.maxProcessedTimes}×) | ${count(run.replayed)} | ${count(run.durationSeconds)} s | ${count(run.recordsPerSecond)} | ` +
        `${run.rssStartMiB} → ${run.rssEndMiB} MiB |`,
    );
  }
  lines.push('');
  for (const run of c.runs) {
    const facts = [`faults ${run.faults}`, run.machine];
    if (run.faultsInjected)
      facts.push(
        `faults injected: ${Object.entries(run.faultsInjected)
          .map(([k, n]) => `\`${k}\` ${count(n)}`)
          .join(', ')}`,
      );
    if (run.consumerCrashes !== undefined) facts.push(`\`consumerCrashes\` ${run.consumerCrashes}`);
    if (run.consumerStalls !== undefined) facts.push(`\`consumerStalls\` ${run.consumerStalls}`);
    if (run.skippedAsDone !== undefined) facts.push(`\`skippedAsDone\` ${count(run.skippedAsDone)}`);
    if (run.exitCode !== undefined) facts.push(`exit code ${run.exitCode}`);
    lines.push(`- \`${run.command}\` (${run.date}): ${facts.join('; ')}.`);
  }
  return lines;
}

/** The page, from the two reports. */
export function renderResultsPage(bench: BenchReport, chaos: ChaosResults): string {
  return [
    '# Results',
    '',
    `<!-- Generated by \`npm run docs:results\` from ${BENCH_RESULTS} and ${CHAOS_RESULTS}: edit those, not this page. -->`,
    '',
    'Measured figures, dated, as the runs wrote them. How they are measured: [Performance](performance.md) and',
    '[Reliability](reliability.md).',
    '',
    ...benchSection(bench),
    '',
    ...chaosSection(chaos),
    '',
  ].join('\n');
}

/** The page as the JSON in the working tree says it should be. */
export function expectedResultsPage(root = '.'): string {
  const read = <T>(path: string) => JSON.parse(readFileSync(`${root}/${path}`, 'utf8')) as T;
  return renderResultsPage(read<BenchReport>(BENCH_RESULTS), read<ChaosResults>(CHAOS_RESULTS));
}
