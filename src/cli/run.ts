// Runs a parsed command against its target and says what happened: the progress, then the
// summary (or the report), as text or as one JSON line. Returns the exit code.
import { describeError } from '../contract/errors.js';
import { ENV } from '../contract/index.js';
import { lambdaInvoker, resolveAwsTarget } from './aws-target.js';
import type { DlqCommand, ParsedCommand, Target } from './command-line.js';
import { CliError, EXIT } from './exit-codes.js';
import { localInvoker } from './local-target.js';
import { createProgress, duration } from './progress.js';
import { queueDepthReader, type ReadDepth } from './queue-depth.js';
import type { Invoke, LoopSummary, StopReason } from './replay-loop.js';
import { EXIT_CODE_OF, replayUntilDone } from './replay-loop.js';
import { renderReport, reportOf } from './report.js';

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly outIsTTY: boolean;
  readonly errIsTTY: boolean;
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C. */
  readonly stop: AbortSignal;
}

export interface Connection {
  readonly name: string;
  readonly invoke: Invoke;
  /** The queue's depth; absent when the queue is not known (a bare --function, source s3). */
  readonly readDepth?: ReadDepth;
}

/** Tests give a connection of their own (a fake invoker); the tool connects to the target. */
export type Connect = (target: Target, source: 'dlq' | 's3', env: NodeJS.ProcessEnv) => Promise<Connection>;

export const connect: Connect = async (target, source, env) => {
  if (target.kind === 'local') {
    const invoke = await localInvoker(env, target.timeoutSeconds, source);
    return {
      name: 'the local replay',
      invoke,
      ...(source === 'dlq'
        ? { readDepth: queueDepthReader(env[ENV.deadLetterQueueUrl]!, undefined, env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL) }
        : {}),
    };
  }
  const { functionName, queueUrl } = await resolveAwsTarget(target);
  return {
    name: functionName,
    invoke: lambdaInvoker(functionName, target.region),
    ...(source === 'dlq' && queueUrl ? { readDepth: queueDepthReader(queueUrl, target.region) } : {}),
  };
};

const n = (value: number) => value.toLocaleString('en-US');

const WHY: Record<StopReason, (s: LoopSummary, max?: number, maxFailed?: number) => string> = {
  drained: (s) =>
    `drained: nothing replayable is left${s.last?.skipped ? ` (${n(s.last.skipped)} stay in the queue on purpose: filtered out, or replayed REPLAY_MAX_COUNT times already)` : ''}.`,
  'only-failures-left': (s) =>
    `only dead letters that fail are left (${n(s.last?.failed ?? 0)} in the last invocation; the reasons are below).`,
  'max-reached': (_s, max) => `--max ${n(max ?? 0)} reached; more may be left.`,
  'max-failed': (_s, _max, maxFailed) => `--max-failed ${n(maxFailed ?? 0)} reached.`,
  interrupted: (s) =>
    s.invocations === 0
      ? 'interrupted (Ctrl-C) before the first invocation: nothing was done.'
      : `interrupted (Ctrl-C) after invocation ${s.invocations}, which had finished: nothing is half-done, every dead letter was replayed and deleted, or is still in the queue.`,
  'dry-run': (s) => `dry run: nothing was produced or deleted; ${n(s.replayed)} would have been replayed.`,
  error: (s) => `an invocation failed: ${describeError(s.error).message}`,
};

const REASONS_SHOWN = 5;

async function replay(command: Extract<ParsedCommand, { name: 'replay' }>, connection: Connection, io: Io): Promise<number> {
  const started = Date.now();
  const write = command.json ? io.err : io.out;
  let unknown: string | undefined;
  const left = async () => {
    const depth = await connection.readDepth?.();
    if (depth && 'unknown' in depth) unknown = depth.unknown;
    return depth && !('unknown' in depth) ? depth.visible + depth.inFlight : undefined;
  };
  const before = await left();
  write(`replaying through ${connection.name}${before !== undefined ? `: ~${n(before)} dead letters in the queue` : ''}\n`);
  if (unknown) write(`(what is left, and so the ETA, unknown: ${unknown})\n`);
  const progress = createProgress({ write, isTTY: command.json ? io.errIsTTY : io.outIsTTY });
  const summary = await replayUntilDone(
    connection.invoke,
    {
      payload: command.payload,
      stop: io.stop,
      ...(command.max ? { max: command.max } : {}),
      ...(command.maxFailed ? { maxFailed: command.maxFailed } : {}),
    },
    async (totals) => progress.update(totals, await left()),
  );
  progress.finish();
  const after = await left();
  const { received, replayed, skipped, failed, invocations, stoppedBecause } = summary;
  const result = {
    replayed,
    skipped,
    failed,
    received,
    invocations,
    stoppedBecause,
    ...(after !== undefined ? { left: after } : {}),
    durationMs: Date.now() - started,
    ...(summary.error ? { error: describeError(summary.error).message } : {}),
  };
  if (command.json) {
    io.out(`${JSON.stringify(result)}\n`);
  } else {
    const reasons = [...new Set(summary.last?.errors.map((e) => e.reason))].slice(0, REASONS_SHOWN);
    io.out(
      `Replayed ${n(replayed)}, skipped ${n(skipped)}, failed ${n(failed)} in ${invocations} invocation${invocations === 1 ? '' : 's'} (${duration(result.durationMs)})${after !== undefined ? `; ~${n(after)} left in the queue` : ''}.\n`,
    );
    io.out(`Stopped: ${WHY[stoppedBecause](summary, command.max, command.maxFailed)}\n`);
    if (reasons.length) io.out(`Left by the last invocation:\n${reasons.map((r) => `  ${r}\n`).join('')}`);
  }
  return EXIT_CODE_OF[stoppedBecause];
}

async function report(command: Extract<ParsedCommand, { name: 'report' }>, connection: Connection, io: Io): Promise<number> {
  const source = command.payload.source ?? 'dlq';
  const queue = await connection.readDepth?.();
  const answer = await connection.invoke(command.payload);
  const result = reportOf(answer, source, queue);
  io.out(command.json ? `${JSON.stringify(result)}\n` : renderReport(result));
  // Nothing read, and errors: the queue could not be read (the reasons say why), not an empty queue.
  return answer.received === 0 && answer.errors.length > 0 ? EXIT.error : EXIT.ok;
}

export async function runCommand(command: DlqCommand, io: Io, connectTo: Connect = connect): Promise<number> {
  try {
    const connection = await connectTo(command.target, command.payload.source ?? 'dlq', io.env);
    return command.name === 'replay' ? await replay(command, connection, io) : await report(command, connection, io);
  } catch (error) {
    const { type, message } = describeError(error);
    io.err(`error: ${error instanceof CliError ? message : `${type}: ${message}`}\n`);
    return error instanceof CliError ? error.exitCode : EXIT.error;
  }
}
