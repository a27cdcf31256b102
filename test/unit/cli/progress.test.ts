import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProgress, duration, progressLine } from '../../../src/cli/progress.js';

afterEach(() => vi.useRealTimers());

const totals = (replayed: number, invocations: number) => ({ received: replayed + 3, replayed, skipped: 2, failed: 1, invocations });

describe('the progress line', () => {
  it('gives the counts, the rate over the run so far, what is left and the ETA from them', () => {
    expect(progressLine(totals(12_000, 12), 30_000, 6_000)).toBe(
      'replayed 12,000 | skipped 2 | failed 1 | 400/s | ~6,000 left | ETA 15s | 12 invocations | 30s',
    );
    expect(progressLine(totals(1_000, 1), 10_000, 599_000)).toBe(
      'replayed 1,000 | skipped 2 | failed 1 | 100/s | ~599,000 left | ETA 1h39m | 1 invocation | 10s',
    );
  });

  it('has no ETA before anything was replayed, and no "left" when the queue is not known', () => {
    expect(progressLine(totals(0, 1), 5_000, 100)).toBe(
      'replayed 0 | skipped 2 | failed 1 | 0/s | ~100 left | ETA unknown | 1 invocation | 5s',
    );
    expect(progressLine(totals(50, 1), 5_000)).toBe('replayed 50 | skipped 2 | failed 1 | 10/s | 1 invocation | 5s');
  });

  it.each([
    [0, '0s'],
    [59_400, '59s'],
    [61_000, '1m01s'],
    [3_600_000, '1h00m'],
    [5_430_000, '1h30m'],
  ])('writes %d ms as %s', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

describe('createProgress', () => {
  it('off a terminal, writes one line per update and nothing in between', () => {
    vi.useFakeTimers({ now: 0 });
    const written: string[] = [];
    const progress = createProgress({ write: (t) => written.push(t), isTTY: false });
    vi.advanceTimersByTime(10_000);
    progress.update(totals(1_000, 1), 4_000);
    vi.advanceTimersByTime(5_000);
    progress.finish();
    expect(written).toEqual(['replayed 1,000 | skipped 2 | failed 1 | 100/s | ~4,000 left | ETA 40s | 1 invocation | 10s\n']);
  });

  it('on a terminal, redraws one line at once, every second, and on each update, and ends it on finish', () => {
    vi.useFakeTimers({ now: 0 });
    const written: string[] = [];
    const progress = createProgress({ write: (t) => written.push(t), isTTY: true });
    vi.advanceTimersByTime(2_000);
    progress.update(totals(1_000, 1), 4_000);
    progress.finish();
    vi.advanceTimersByTime(5_000); // no redraw after finish
    expect(written).toEqual([
      '\r\u001b[2Kreplayed 0 | skipped 0 | failed 0 | 0/s | 0 invocations | 0s',
      '\r\u001b[2Kreplayed 0 | skipped 0 | failed 0 | 0/s | 0 invocations | 1s',
      '\r\u001b[2Kreplayed 0 | skipped 0 | failed 0 | 0/s | 0 invocations | 2s',
      '\r\u001b[2Kreplayed 1,000 | skipped 2 | failed 1 | 500/s | ~4,000 left | ETA 8s | 1 invocation | 2s',
      '\n',
    ]);
  });
});
