import os from 'node:os';

/** One scenario's outcome, in the shape `bench/results.json` promises. */
export interface ScenarioResult {
  readonly id: string;
  readonly unit: string;
  readonly higherIsBetter: boolean;
  readonly ours: number;
  readonly baselines: Record<string, number>;
  /** ours / baseline, for each baseline. */
  readonly ratios: Record<string, number>;
  readonly inputs: Record<string, unknown>;
}

export interface BenchReport {
  readonly node: string;
  readonly cpu: string;
  readonly date: string;
  readonly scenarios: ScenarioResult[];
}

const round = (n: number, digits: number) => Number(n.toPrecision(digits));

export function scenario(
  id: string,
  unit: string,
  higherIsBetter: boolean,
  ours: number,
  baselines: Record<string, number>,
  inputs: Record<string, unknown>,
): ScenarioResult {
  const ratios = Object.fromEntries(Object.entries(baselines).map(([name, value]) => [name, round(ours / value, 3)]));
  const rounded = Object.fromEntries(Object.entries(baselines).map(([name, value]) => [name, round(value, 4)]));
  return { id, unit, higherIsBetter, ours: round(ours, 4), baselines: rounded, ratios, inputs };
}

export function report(scenarios: ScenarioResult[]): BenchReport {
  const cpus = os.cpus();
  return {
    node: process.version,
    cpu: `${cpus[0]?.model.trim() ?? 'unknown'} × ${cpus.length}`,
    date: new Date().toISOString(),
    scenarios,
  };
}

/** What each ratio must be (docs/performance.md), shown beside it in the table. */
export const TARGETS: Record<string, Record<string, { op: '≥' | '≤'; value: number }>> = {
  'handler-throughput-10000': { floor: { op: '≥', value: 0.9 }, middy: { op: '≥', value: 1 }, powertools: { op: '≥', value: 2 } },
  'failure-path': { naive: { op: '≥', value: 20 } },
  'cold-start-ms': { powertools: { op: '≤', value: 0.5 } },
  replay: { naive: { op: '≥', value: 20 } },
  'replay-loopback': { naive: { op: '≥', value: 8 } },
  'end-to-end': { kafkajs: { op: '≥', value: 0.8 } },
  memory: { 'batch-bytes': { op: '≤', value: 3 } },
  'idempotency-1-partition': { powertools: { op: '≥', value: 20 } },
};

/** Absolute limits that are not ratios. */
export const LIMITS: Record<string, { op: '≤'; value: number }> = {
  'cold-start-bytes': { op: '≤', value: 100 * 1024 },
};

const fmt = (n: number) => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : String(round(n, 3)));

/** The table `npm run bench` prints and docs/results.md shows (Markdown, readable as plain text). */
export function markdownTable(r: BenchReport): string {
  const lines = [
    `Node ${r.node} · ${r.cpu} · ${r.date.slice(0, 10)}`,
    '',
    '| scenario | unit | ours | baseline | baseline value | ours / baseline | target |',
    '|---|---|--:|---|--:|--:|---|',
  ];
  for (const s of r.scenarios) {
    const names = Object.keys(s.baselines);
    names.forEach((name, i) => {
      const target = TARGETS[s.id]?.[name];
      const limit = i === 0 ? LIMITS[s.id] : undefined;
      const ratio = s.ratios[name]!;
      const verdict = target
        ? `${target.op} ${target.value} ${(target.op === '≥' ? ratio >= target.value : ratio <= target.value) ? '✓' : '✗'}`
        : limit
          ? `ours ${limit.op} ${fmt(limit.value)} ${s.ours <= limit.value ? '✓' : '✗'}`
          : '';
      lines.push(
        `| ${i === 0 ? s.id : ''} | ${i === 0 ? s.unit : ''} | ${i === 0 ? fmt(s.ours) : ''} | ${name} | ${fmt(s.baselines[name]!)} | ${ratio.toFixed(2)}× | ${verdict} |`,
      );
    });
  }
  return lines.join('\n');
}
