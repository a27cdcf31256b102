// Live progress of `dlq replay`: on a terminal one line redrawn in place (and every second, so
// the elapsed time moves while an invocation runs); anywhere else (a pipe, a CI log) one plain
// line per invocation, which a log keeps readable.
import type { LoopTotals } from './replay-loop.js';

export interface ProgressOptions {
  readonly write: (text: string) => void;
  /** A terminal: redraw one line; otherwise plain lines. */
  readonly isTTY: boolean;
  readonly now?: () => number;
}

export interface Progress {
  /** After each invocation; `left` is the queue's approximate depth when the queue is known. */
  update(totals: LoopTotals, left?: number): void;
  /** Ends the redrawn line (the final summary follows on its own line). */
  finish(): void;
}

const count = (n: number) => n.toLocaleString('en-US');

export function duration(ms: number): string {
  const s = Math.round(ms / 1_000);
  return s < 60
    ? `${s}s`
    : s < 3_600
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${Math.floor(s / 3_600)}h${String(Math.floor((s % 3_600) / 60)).padStart(2, '0')}m`;
}

/** The progress line: counts, rate, what is left and when it should be done. */
export function progressLine(totals: LoopTotals, elapsedMs: number, left?: number): string {
  const rate = elapsedMs > 0 ? totals.replayed / (elapsedMs / 1_000) : 0;
  const parts = [
    `replayed ${count(totals.replayed)}`,
    `skipped ${count(totals.skipped)}`,
    `failed ${count(totals.failed)}`,
    `${count(Math.round(rate))}/s`,
  ];
  if (left !== undefined) parts.push(`~${count(left)} left`, rate > 0 ? `ETA ${duration((left / rate) * 1_000)}` : 'ETA unknown');
  parts.push(`${totals.invocations} invocation${totals.invocations === 1 ? '' : 's'}`, duration(elapsedMs));
  return parts.join(' | ');
}

export function createProgress({ write, isTTY, now = Date.now }: ProgressOptions): Progress {
  const started = now();
  let totals: LoopTotals = { received: 0, replayed: 0, skipped: 0, failed: 0, invocations: 0 };
  let left: number | undefined;
  const redraw = () => write(`\r\x1b[2K${progressLine(totals, now() - started, left)}`);
  const ticker = isTTY ? setInterval(redraw, 1_000).unref() : undefined;
  if (isTTY) redraw();
  return {
    update(next, depth) {
      totals = next;
      left = depth;
      if (isTTY) redraw();
      else write(`${progressLine(totals, now() - started, left)}\n`);
    },
    finish() {
      clearInterval(ticker);
      if (isTTY) write('\n');
    },
  };
}
