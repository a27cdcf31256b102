import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface InvokeResult {
  code: number | null;
  /** The last stdout line, parsed. */
  result: { response?: unknown; error?: unknown; deadLetters: unknown[] };
  stdoutLines: string[];
  stderr: string;
}

/** Far beyond any invocation here: only a command that never exits reaches it. */
const EXIT_DEADLINE_MS = 90_000;
/** What `npm run invoke` prints when the handler left something open after answering. */
const LEFT_OPEN = /^invoke: still running .*$/m;

/**
 * Runs `npm run invoke` (its script, without npm's banner) as a real subprocess. Fails when the
 * command does not exit, or when the handler left something open after answering.
 */
export async function invoke(
  fn: 'consumer' | 'replay',
  input: unknown,
  env: Record<string, string>,
  extraArgs: string[] = [],
): Promise<InvokeResult> {
  const args = ['local/invoke.ts', fn];
  const dir = mkdtempSync(path.join(tmpdir(), 'invoke-'));
  try {
    if (fn === 'consumer') {
      const file = path.join(dir, 'event.json');
      writeFileSync(file, JSON.stringify(input));
      args.push('--event', file);
    } else {
      args.push('--payload', JSON.stringify(input));
    }
    return await run([...args, ...extraArgs], env);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function run(args: string[], env: Record<string, string>): Promise<InvokeResult> {
  const child = spawn(path.resolve('node_modules/.bin/tsx'), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  let timer: NodeJS.Timeout | undefined;
  const code = await new Promise<number | null | 'hung'>((resolve) => {
    child.on('close', resolve);
    timer = setTimeout(() => (child.kill('SIGKILL'), resolve('hung')), EXIT_DEADLINE_MS);
  }).finally(() => clearTimeout(timer));
  const output = `\nstdout:\n${stdout}\nstderr:\n${stderr}`;
  if (code === 'hung') throw new Error(`invoke ${args[1]} did not exit within ${EXIT_DEADLINE_MS / 1_000} s (killed).${output}`);
  const leftOpen = LEFT_OPEN.exec(stderr);
  if (leftOpen) throw new Error(`the ${args[1]} handler left something open: ${leftOpen[0]}${output}`);
  const stdoutLines = stdout.trimEnd().split('\n');
  let result: InvokeResult['result'];
  try {
    result = JSON.parse(stdoutLines.at(-1) ?? '');
  } catch {
    throw new Error(`invoke printed no JSON last line (exit ${code}).${output}`);
  }
  return { code, result, stdoutLines, stderr };
}
