import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import type { ReplayAnswer } from '../../src/cli/replay-answer.js';

export interface DlqRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Far beyond any run here: only a command that never exits reaches it. */
const EXIT_DEADLINE_MS = 120_000;

/**
 * Runs `kafka-lambda-consumers dlq …` as a user does in the repository (`npm run dlq`'s command:
 * node with tsx's loader, one process; no terminal: stdout is a pipe). `onStdout` sees the output
 * so far, and may signal the process.
 */
export async function runDlq(
  args: string[],
  env: Record<string, string>,
  onStdout: (stdout: string, signal: (signal: NodeJS.Signals) => void) => void = () => undefined,
): Promise<DlqRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'dlq', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return outcome(child, args, (text) => onStdout(text, (signal) => child.kill(signal)));
}

/**
 * `npm run -s dlq -- …` in a process group of its own, as a terminal runs it: `signal` reaches
 * the whole group (npm, its shell, node), as Ctrl-C does, and npm forwards it to its child too.
 */
export async function runDlqThroughNpm(
  args: string[],
  env: Record<string, string>,
  onStdout: (stdout: string, signal: (signal: NodeJS.Signals) => void) => void,
): Promise<DlqRun> {
  const child = spawn('npm', ['run', '-s', 'dlq', '--', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return outcome(child, args, (text) => onStdout(text, (signal) => process.kill(-child.pid!, signal)));
}

async function outcome(
  child: ChildProcessByStdio<null, Readable, Readable>,
  args: string[],
  onStdout: (stdout: string) => void,
): Promise<DlqRun> {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
    onStdout(stdout);
  });
  child.stderr.on('data', (d) => (stderr += d));
  let timer: NodeJS.Timeout | undefined;
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'hung'>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
    timer = setTimeout(() => (child.kill('SIGKILL'), resolve('hung')), EXIT_DEADLINE_MS);
  }).finally(() => clearTimeout(timer));
  if (exit === 'hung')
    throw new Error(`dlq ${args.join(' ')} did not exit within ${EXIT_DEADLINE_MS / 1_000} s.\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  return { ...exit, stdout, stderr };
}

/** Puts dead letters in a queue as the consumer's writer does (one envelope per message), many calls at once. */
export async function seedDeadLetters(sqs: SQSClient, queueUrl: string, envelopes: DeadLetterEnvelope[], concurrency = 16): Promise<void> {
  const batches = Array.from({ length: Math.ceil(envelopes.length / 10) }, (_, i) => envelopes.slice(i * 10, i * 10 + 10));
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((e, i) => ({ Id: String(i), MessageBody: JSON.stringify(e) })),
        }),
      );
      if (out.Failed?.length) throw new Error(`seeding: SQS refused ${out.Failed.length} dead letters: ${out.Failed[0]!.Code}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** What redraws a terminal's line (a carriage return, an escape sequence): never in plain output. */
export const redrawsALine = (text: string) => text.includes('\r') || text.includes('\u001b');

/** The replay function's answer with nothing done, overridden by `a`: what fake invokers answer. */
export const answer = (a: Partial<ReplayAnswer>): ReplayAnswer => ({
  received: 0,
  replayed: 0,
  skipped: 0,
  failed: 0,
  dryRun: false,
  errors: [],
  ...a,
});
