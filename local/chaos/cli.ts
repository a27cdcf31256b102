// `npm run chaos [-- --records N] [--partitions N] [--faults all|none] [--timeout MS] [--deadline S] [--idempotency] [--no-breaker] [--json]`:
// N records of the demo mix through the example consumer and the replay under every fault we
// can inject (see run.ts, schedule.ts); prints the ground truth's summary: `duplicates` are
// records delivered to the function more than once, `duplicate effects` records the function
// finished more than once (what `--idempotency`, the runtime's ledger, is there to prevent); `outage DLQ`
// the records dead-lettered during a downstream outage and `pauses` the times the mapping was
// paused (what the outage breaker, on unless `--no-breaker`, is there for). `--failure-mode
// block|park-key` runs the consumer in that mode on a keyed demo mix (local/chaos/failure-modes.ts).
// Exit code 0 only when no record was lost and every record was accounted for before the deadline
// (and, in a failure mode, nothing out of order, no clean key delayed, every blocked partition resumed).
import { parseArgs } from 'node:util';
import { runChaos, type ChaosSummary } from './run.js';
import { FAULT_KINDS } from './schedule.js';
import { FAILURE_MODES, type FailureMode } from '../../src/contract/index.js';

const usage =
  'usage: npm run chaos -- [--records N] [--partitions N] [--faults all|none] [--timeout MS] [--deadline SECONDS] [--idempotency] [--no-breaker] [--failure-mode dead-letter|block|park-key] [--json]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '30000' },
    partitions: { type: 'string', default: '6' },
    faults: { type: 'string', default: 'all' },
    timeout: { type: 'string', default: '4000' },
    deadline: { type: 'string' },
    idempotency: { type: 'boolean', default: false },
    breaker: { type: 'boolean', default: true },
    'failure-mode': { type: 'string', default: 'dead-letter' },
    json: { type: 'boolean', default: false },
  },
  allowNegative: true,
});
const wholeNumber = (name: string, value: string | undefined) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number ≥ 1, got ${value}`);
  return n;
};
if (values.faults !== 'all' && values.faults !== 'none') fail(`--faults must be "all" or "none", got ${values.faults}`);
const failureMode = values['failure-mode'] as FailureMode;
if (!FAILURE_MODES.includes(failureMode)) fail(`--failure-mode must be one of ${FAILURE_MODES.join(', ')}, got ${failureMode}`);

const log = (line: string) => process.stderr.write(`${line}\n`);
let summary: ChaosSummary;
try {
  summary = await runChaos({
    records: wholeNumber('records', values.records),
    partitions: wholeNumber('partitions', values.partitions),
    faults: values.faults === 'all',
    functionTimeoutMs: wholeNumber('timeout', values.timeout),
    ...(values.deadline !== undefined ? { deadlineMs: wholeNumber('deadline', values.deadline) * 1_000 } : {}),
    idempotency: values.idempotency,
    breaker: values.breaker,
    failureMode,
    log,
  });
} catch (error) {
  log(`npm run chaos failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const rows: Array<[string, string | number]> = [
  ['produced', summary.produced],
  ['processed', summary.processed],
  ['dead-lettered', summary.deadLettered],
  ['lost', summary.lost],
  ['duplicates', summary.duplicates],
  ['dup. effects', summary.duplicateEffects],
  ['max processed', `${summary.maxProcessedTimes}×`],
  ['skipped as done', summary.skippedAsDone],
  ['outage DLQ', summary.outageDeadLetters],
  ['out of order', summary.outOfOrder],
  ...(failureMode === 'dead-letter'
    ? []
    : [
        ['failure mode', failureMode] as [string, string],
        ['clean delayed', summary.delayedCleanKeys] as [string, number],
        ['keys released', summary.keysReleased] as [string, number],
      ]),
  ...(summary.block
    ? [
        ['blocked parts', summary.block.blockedPartitions] as [string, number],
        ['  resumed', summary.block.blockedPartitionsResumed] as [string, number],
        ['clean parts done', `${summary.block.cleanPartitionsCaughtUp}/${summary.block.cleanPartitions}`] as [string, string],
      ]
    : []),
  ['pauses', summary.pauses],
  ['replayed', summary.replayed],
  ['on-failure', summary.onFailure],
  ['consumer crashes', summary.consumerCrashes],
  ['consumer stalls', summary.consumerStalls],
  ['faults injected', ''],
  ...FAULT_KINDS.map((k): [string, number] => [`  ${k}`, summary.faults[k]]),
  ['rss at 20%', mb(summary.rssStartBytes)],
  ['rss at 100%', mb(summary.rssEndBytes)],
  ['duration', `${(summary.durationMs / 1_000).toFixed(1)} s`],
  ['records/s', summary.recordsPerSecond],
];
for (const [name, value] of rows) console.log(`${name.padEnd(16)} ${String(value).padStart(10)}`);
if (!summary.complete) log('the deadline passed with records still unaccounted for');
if (summary.lost > 0)
  log(`lost (neither processed nor dead-lettered), first ${summary.lostRecords!.length}: ${summary.lostRecords!.join(', ')}`);
if (values.json) console.log(JSON.stringify(summary));
const orderSafe =
  failureMode === 'dead-letter' ||
  (summary.outOfOrder === 0 &&
    summary.delayedCleanKeys === 0 &&
    (!summary.block || (summary.deadLettered === 0 && summary.block.blockedPartitionsResumed === summary.block.blockedPartitions)));
process.exit(summary.lost === 0 && summary.complete && orderSafe ? 0 : 1);
