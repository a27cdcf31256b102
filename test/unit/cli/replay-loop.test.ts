import { describe, expect, it } from 'vitest';
import { EXIT_CODE_OF, replayUntilDone, type StopReason } from '../../../src/cli/replay-loop.js';
import type { ReplayAnswer, ReplayPayload } from '../../../src/cli/replay-answer.js';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { answer } from '../../support/dlq-cli.js';

/** An invoker that answers from a script, one answer per call, and records the payloads. */
function scripted(...answers: Array<Partial<ReplayAnswer> | Error>) {
  const payloads: ReplayPayload[] = [];
  const invoke = async (payload: ReplayPayload) => {
    payloads.push(payload);
    const next = answers.shift() ?? {};
    if (next instanceof Error) throw next;
    return answer(next);
  };
  return { invoke, payloads };
}

const payload: ReplayPayload = { source: 'dlq', maxMessages: 100 };
const run = (
  invoke: (p: ReplayPayload) => Promise<ReplayAnswer>,
  options: { max?: number; maxFailed?: number; stop?: AbortSignal; payload?: ReplayPayload } = {},
) => replayUntilDone(invoke, { payload: options.payload ?? payload, stop: options.stop ?? new AbortController().signal, ...options });

describe('replayUntilDone', () => {
  it('invokes until a run receives nothing, and adds up the counts', async () => {
    const { invoke, payloads } = scripted({ received: 100, replayed: 100 }, { received: 60, replayed: 58, skipped: 2 }, { received: 0 });
    const summary = await run(invoke);
    expect(summary).toMatchObject({ received: 160, replayed: 158, skipped: 2, failed: 0, invocations: 3, stoppedBecause: 'drained' });
    expect(payloads).toEqual([payload, payload, payload]);
  });

  it('stops when a run replays nothing: drained when only skipped dead letters are left, a failure when some fail', async () => {
    expect(await run(scripted({ received: 100, replayed: 100 }, { received: 5, skipped: 5 }).invoke)).toMatchObject({
      invocations: 2,
      stoppedBecause: 'drained',
    });
    expect(await run(scripted({ received: 100, replayed: 100 }, { received: 5, skipped: 3, failed: 2 }).invoke)).toMatchObject({
      invocations: 2,
      stoppedBecause: 'only-failures-left',
    });
  });

  it('goes on while runs replay something, though some fail', async () => {
    const summary = await run(
      scripted({ received: 100, replayed: 90, failed: 10 }, { received: 100, replayed: 90, failed: 10 }, { received: 10, failed: 10 })
        .invoke,
    );
    expect(summary).toMatchObject({ invocations: 3, failed: 30, stoppedBecause: 'only-failures-left' });
  });

  it('stops at --max, asking no run for more than is left of it', async () => {
    const { invoke, payloads } = scripted(
      { received: 100, replayed: 100 },
      { received: 50, replayed: 50 },
      { received: 100, replayed: 100 },
    );
    expect(await run(invoke, { max: 150 })).toMatchObject({ replayed: 150, invocations: 2, stoppedBecause: 'max-reached' });
    expect(payloads.map((p) => p.maxMessages)).toEqual([100, 50]);
  });

  it('stops once --max-failed have failed, over all runs', async () => {
    const summary = await run(
      scripted({ received: 100, replayed: 97, failed: 3 }, { received: 100, replayed: 98, failed: 2 }, { received: 100, replayed: 100 })
        .invoke,
      { maxFailed: 5 },
    );
    expect(summary).toMatchObject({ failed: 5, invocations: 2, stoppedBecause: 'max-failed' });
  });

  it('runs a dry run once: it deletes nothing, so a second would read the same dead letters', async () => {
    const { invoke, payloads } = scripted({ received: 100, replayed: 100, dryRun: true }, { received: 100, replayed: 100, dryRun: true });
    expect(await run(invoke, { payload: { ...payload, dryRun: true } })).toMatchObject({
      invocations: 1,
      replayed: 100,
      stoppedBecause: 'dry-run',
    });
    expect(payloads).toHaveLength(1);
  });

  it('from S3, goes on after the last key each run read, until a run reads nothing', async () => {
    const { invoke, payloads } = scripted(
      { received: 40, replayed: 30, skipped: 10, objects: { received: 4, lastKey: 'aws/lambda/a' } },
      { received: 10, skipped: 10, objects: { received: 1, lastKey: 'aws/lambda/b' } },
      { received: 0, objects: { received: 0 } },
    );
    expect(await run(invoke, { payload: { source: 's3', maxMessages: 5 } })).toMatchObject({ invocations: 3, stoppedBecause: 'drained' });
    expect(payloads.map((p) => p.startAfter)).toEqual([undefined, 'aws/lambda/a', 'aws/lambda/b']);
  });

  it('starts no invocation once stopped (Ctrl-C), and finishes the one in flight', async () => {
    const stop = new AbortController();
    let calls = 0;
    const invoke = async () => {
      calls++;
      if (calls === 2) stop.abort(); // Ctrl-C while the second invocation runs
      await new Promise((resolve) => setTimeout(resolve, 5));
      return answer({ received: 100, replayed: 100 });
    };
    expect(await run(invoke, { stop: stop.signal })).toMatchObject({ invocations: 2, replayed: 200, stoppedBecause: 'interrupted' });
    expect(calls).toBe(2);
  });

  it('says what was done before an invocation failed', async () => {
    const failure = new Error('the replay function failed');
    const summary = await run(scripted({ received: 100, replayed: 100 }, failure).invoke);
    expect(summary).toMatchObject({ replayed: 100, invocations: 1, stoppedBecause: 'error', error: failure });
  });

  it('maps each stop to its exit code: 0 drained, 1 error, 3 --max, 4 failures, 130 Ctrl-C', () => {
    const codes: Record<StopReason, number> = {
      drained: 0,
      'dry-run': 0,
      error: 1,
      'max-reached': 3,
      'max-failed': 4,
      'only-failures-left': 4,
      interrupted: 130,
    };
    expect(EXIT_CODE_OF).toEqual(codes);
    expect(EXIT).toMatchObject({ ok: 0, error: 1, usage: 2, maxReached: 3, failures: 4, interrupted: 130 });
  });
});
