import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface InvokeResult {
  code: number | null;
  /** The last stdout line, parsed. */
  result: { response?: unknown; error?: unknown; deadLetters: unknown[] };
  stdoutLines: string[];
  stderr: string;
}

/** Runs `npm run invoke` (its script, without npm's banner) as a real subprocess. */
export async function invoke(fn: 'consumer' | 'replay', input: unknown, env: Record<string, string>, extraArgs: string[] = []): Promise<InvokeResult> {
  const args = ['local/invoke.ts', fn];
  if (fn === 'consumer') {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'invoke-')), 'event.json');
    writeFileSync(file, JSON.stringify(input));
    args.push('--event', file);
  } else {
    args.push('--payload', JSON.stringify(input));
  }
  const child = spawn(path.resolve('node_modules/.bin/tsx'), [...args, ...extraArgs], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const stdoutLines = stdout.trimEnd().split('\n');
  let result: InvokeResult['result'];
  try {
    result = JSON.parse(stdoutLines.at(-1) ?? '');
  } catch {
    throw new Error(`invoke printed no JSON last line (exit ${code}).\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
  return { code, result, stdoutLines, stderr };
}
