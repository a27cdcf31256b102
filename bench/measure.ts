import type { ScenarioResult } from './results.js';

const collectGarbage = (globalThis as { gc?: () => void }).gc;

/** Milliseconds `fn` takes, garbage from earlier runs collected first so it is not billed here. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  collectGarbage?.();
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A line for the person running the bench (the scenario's own stdout and stderr go to its log file). */
export function progress(line: string): void {
  if (process.send) process.send({ progress: line });
  else process.stderr.write(`  ${line}\n`);
}

/**
 * The entry point of a scenario module: `npm run bench` runs each in a fresh Node process
 * (no JIT state or heap shared between scenarios) and receives the results over IPC.
 */
export function runScenario(main: () => Promise<ScenarioResult[]>): void {
  main().then(
    (results) => {
      if (process.send) process.send({ results }, () => process.exit(0));
      else {
        console.log(JSON.stringify(results, null, 2));
        process.exit(0);
      }
    },
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
