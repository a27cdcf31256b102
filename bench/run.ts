// `npm run bench [-- --only <scenario>]`: runs every scenario in a fresh Node process, one
// after the other (they must not share the two cores), prints the table and writes
// bench/results.json. Each scenario's own output goes to bench/.out/<scenario>.log.
import { fork } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { OUT_DIR } from './bundles.js';
import { markdownTable, report, type ScenarioResult } from './results.js';

const SCENARIOS = [
  'handler-throughput',
  'schema-decoding',
  'failure-path',
  'cold-start',
  'replay',
  'replay-loopback',
  'end-to-end',
  'memory',
  'idempotency',
];
const { values } = parseArgs({ options: { only: { type: 'string', multiple: true } } });
const chosen = values.only ?? SCENARIOS;
const unknown = chosen.filter((s) => !SCENARIOS.includes(s));
if (unknown.length) {
  process.stderr.write(`Unknown scenario(s) ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}.\n`);
  process.exit(2);
}

function runInFreshProcess(name: string): Promise<ScenarioResult[]> {
  const log = path.join(OUT_DIR, `${name}.log`);
  const fd = openSync(log, 'w');
  return new Promise((resolve, reject) => {
    const child = fork(path.resolve(`bench/scenarios/${name}.ts`), [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
      stdio: ['ignore', fd, fd, 'ipc'],
    });
    let results: ScenarioResult[] | undefined;
    child.on('message', (m: { progress?: string; results?: ScenarioResult[] }) => {
      if (m.progress) process.stderr.write(`  ${m.progress}\n`);
      if (m.results) results = m.results;
    });
    child.once('exit', (code) => (results ? resolve(results) : reject(new Error(`scenario ${name} failed (exit ${code}); see ${log}`))));
  });
}

mkdirSync(OUT_DIR, { recursive: true });
const started = Date.now();
const results: ScenarioResult[] = [];
for (const name of chosen) {
  process.stderr.write(`${name}…\n`);
  const t = Date.now();
  results.push(...(await runInFreshProcess(name)));
  process.stderr.write(`  (${((Date.now() - t) / 1_000).toFixed(0)} s)\n`);
}
const order = (id: string) =>
  [
    'handler-throughput-100',
    'handler-throughput-1000',
    'handler-throughput-10000',
    'schema-decoding-avro',
    'schema-decoding-protobuf',
    'failure-path',
    'failure-path-loopback',
    'cold-start-bytes',
    'cold-start-ms',
    'replay',
    'replay-loopback',
    'end-to-end',
    'memory',
    'idempotency-1-partition',
    'idempotency-6-partitions',
  ].indexOf(id);
results.sort((a, b) => order(a.id) - order(b.id));
const out = report(results);
if (!values.only) writeFileSync('bench/results.json', `${JSON.stringify(out, null, 2)}\n`);
console.log(markdownTable(out));
process.stderr.write(
  `\n${values.only ? 'bench/results.json left as it was (--only)' : 'wrote bench/results.json'} in ${((Date.now() - started) / 1_000).toFixed(0)} s\n`,
);
