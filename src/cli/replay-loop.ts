// `dlq replay`: the replay function invoked again and again until nothing replayable is left,
// `--max` is reached, failures pass `--max-failed`, or Ctrl-C. An invocation is never cut short:
// the stop signal is read between invocations only.
import { EXIT } from './exit-codes.js';
import type { ReplayAnswer, ReplayPayload } from './replay-answer.js';

/** Runs one invocation of the replay function. */
export type Invoke = (payload: ReplayPayload) => Promise<ReplayAnswer>;

export type StopReason = 'drained' | 'only-failures-left' | 'max-reached' | 'max-failed' | 'interrupted' | 'dry-run' | 'error';

/** Why the loop stopped → the exit code a script reads (docs/replay.md). */
export const EXIT_CODE_OF: Readonly<Record<StopReason, number>> = {
  drained: EXIT.ok,
  'dry-run': EXIT.ok,
  'max-reached': EXIT.maxReached,
  'only-failures-left': EXIT.failures,
  'max-failed': EXIT.failures,
  interrupted: EXIT.interrupted,
  error: EXIT.error,
};

export interface LoopOptions {
  /** Sent with each invocation; `maxMessages` is the per-invocation size (`--max-per-invocation`). */
  readonly payload: ReplayPayload;
  /** Dead letters to replay at most, over all invocations. @default no limit */
  readonly max?: number;
  /** Stop once this many failed, over all invocations. @default no limit */
  readonly maxFailed?: number;
  /** Aborted on Ctrl-C: no invocation starts after it. */
  readonly stop: AbortSignal;
}

/** The counts over all invocations. A dead letter left by three invocations counts three times in `skipped` or `failed`. */
export interface LoopTotals {
  received: number;
  replayed: number;
  skipped: number;
  failed: number;
  invocations: number;
}

export interface LoopSummary extends LoopTotals {
  stoppedBecause: StopReason;
  /** The last invocation's answer (its `errors` say what it left and why). */
  last?: ReplayAnswer;
  /** Stopped because an invocation failed (not counted in `invocations`): why. */
  error?: unknown;
}

export async function replayUntilDone(
  invoke: Invoke,
  options: LoopOptions,
  onInvocation: (totals: LoopTotals, answer: ReplayAnswer) => void | Promise<void> = () => undefined,
): Promise<LoopSummary> {
  const totals: LoopTotals = { received: 0, replayed: 0, skipped: 0, failed: 0, invocations: 0 };
  const { max = Number.POSITIVE_INFINITY, maxFailed = Number.POSITIVE_INFINITY } = options;
  let payload = options.payload;
  let last: ReplayAnswer | undefined;
  const stopped = (stoppedBecause: StopReason): LoopSummary => ({ ...totals, stoppedBecause, ...(last ? { last } : {}) });
  for (;;) {
    if (options.stop.aborted) return stopped('interrupted');
    // Never more than `--max` left to replay: maxMessages bounds what one invocation receives.
    try {
      last = await invoke({ ...payload, maxMessages: Math.min(payload.maxMessages, max - totals.replayed) });
    } catch (error) {
      return { ...stopped('error'), error }; // with what the invocations before it did
    }
    totals.invocations++;
    for (const k of ['received', 'replayed', 'skipped', 'failed'] as const) totals[k] += last[k];
    await onInvocation({ ...totals }, last);
    if (last.dryRun) return stopped('dry-run'); // a dry run deletes nothing: the next one would read the same dead letters
    if (totals.failed >= maxFailed) return stopped('max-failed');
    if (totals.replayed >= max) return stopped('max-reached');
    if (last.received === 0) return stopped('drained');
    if (payload.source === 's3') {
      // Objects a run leaves stay at the head of the listing: the next run starts after them.
      if (last.objects?.lastKey) payload = { ...payload, startAfter: last.objects.lastKey };
    } else if (last.replayed === 0) {
      // What the queue gives back now is what this run left: skipped on purpose, or failing.
      return stopped(last.failed > 0 ? 'only-failures-left' : 'drained');
    }
  }
}
