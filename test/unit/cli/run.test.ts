import { describe, expect, it } from 'vitest';
import type { DlqCommand } from '../../../src/cli/command-line.js';
import { CliError } from '../../../src/cli/exit-codes.js';
import type { ReplayAnswer, ReplayPayload } from '../../../src/cli/replay-answer.js';
import { runCommand, type Connection } from '../../../src/cli/run.js';
import { answer, redrawsALine } from '../../support/dlq-cli.js';

type Runnable = DlqCommand;
/** Runs a command against a fake connection; `depths` are what the queue's attributes say, in turn. */
async function runWith(
  command: Runnable,
  answers: Array<Partial<ReplayAnswer> | Error>,
  options: { tty?: boolean; depths?: number[]; stop?: AbortController; onInvoke?: (n: number) => void } = {},
) {
  let out = '';
  let err = '';
  const payloads: ReplayPayload[] = [];
  const depths = [...(options.depths ?? [])];
  const connection: Connection = {
    name: 'replay-fn',
    invoke: async (payload) => {
      payloads.push(payload);
      options.onInvoke?.(payloads.length);
      const next = answers.shift() ?? {};
      if (next instanceof Error) throw next;
      return answer(next);
    },
    ...(options.depths ? { readDepth: async () => ({ visible: depths.shift() ?? 0, inFlight: 0 }) } : {}),
  };
  const code = await runCommand(
    command,
    {
      out: (t) => void (out += t),
      err: (t) => void (err += t),
      outIsTTY: options.tty ?? false,
      errIsTTY: false,
      env: {},
      stop: (options.stop ?? new AbortController()).signal,
    },
    async () => connection,
  );
  return { code, out, err, payloads };
}

const replay = (extra: Partial<Extract<Runnable, { name: 'replay' }>> = {}): Runnable => ({
  name: 'replay',
  target: { kind: 'local', timeoutSeconds: 60 },
  payload: { source: 'dlq', maxMessages: 100 },
  json: false,
  ...extra,
});

describe('dlq replay, run', () => {
  it('off a terminal, prints one plain line per invocation and a summary, and exits 0 when drained', async () => {
    const { code, out } = await runWith(replay(), [{ received: 100, replayed: 100 }, { received: 50, replayed: 50 }, { received: 0 }], {
      depths: [150, 50, 0, 0, 0],
    });
    expect(code).toBe(0);
    expect(redrawsALine(out)).toBe(false);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('replaying through replay-fn: ~150 dead letters in the queue');
    expect(lines.slice(1, 4).map((l) => l.split(' | ').slice(0, 3).join(' | '))).toEqual([
      'replayed 100 | skipped 0 | failed 0',
      'replayed 150 | skipped 0 | failed 0',
      'replayed 150 | skipped 0 | failed 0',
    ]);
    expect(lines[1]).toMatch(/ \| ~50 left \| ETA (\d+s|unknown) \| 1 invocation \| /); // the rate: see progress.test.ts
    expect(lines[4]).toMatch(/^Replayed 150, skipped 0, failed 0 in 3 invocations \(\d+s\); ~0 left in the queue\.$/);
    expect(lines[5]).toBe('Stopped: drained: nothing replayable is left.');
  });

  it('on a terminal, redraws one line in place', async () => {
    const { out } = await runWith(replay(), [{ received: 100, replayed: 100 }, { received: 0 }], { tty: true });
    expect(out).toContain('\r\x1b[2Kreplayed 100 | skipped 0 | failed 0');
    expect(out.split('\n').filter((l) => l.startsWith('replayed '))).toEqual([]); // never a line of its own
  });

  it('with --json, prints the summary alone on stdout (progress on stderr), as its last line', async () => {
    const { code, out, err } = await runWith(
      replay({ json: true, max: 150 }),
      [
        { received: 100, replayed: 100 },
        { received: 50, replayed: 50 },
      ],
      { depths: [500, 400, 350, 350] },
    );
    expect(code).toBe(3);
    expect(out.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(out)).toMatchObject({
      replayed: 150,
      skipped: 0,
      failed: 0,
      received: 150,
      invocations: 2,
      stoppedBecause: 'max-reached',
      left: 350,
    });
    expect(err).toMatch(/^replayed 100 \| /m);
  });

  it('on Ctrl-C, finishes the invocation in flight, says what was done, and exits 130', async () => {
    const stop = new AbortController();
    const { code, out, payloads } = await runWith(
      replay(),
      [
        { received: 100, replayed: 100 },
        { received: 100, replayed: 100 },
        { received: 100, replayed: 100 },
      ],
      { stop, onInvoke: (n) => n === 2 && stop.abort() },
    );
    expect(code).toBe(130);
    expect(payloads).toHaveLength(2);
    expect(out).toContain('Replayed 200, skipped 0, failed 0 in 2 invocations');
    expect(out).toContain(
      'Stopped: interrupted (Ctrl-C) after invocation 2, which had finished: nothing is half-done, every dead letter was replayed and deleted, or is still in the queue.',
    );
  });

  it('says once why what is left is unknown, and before the first invocation that nothing was done', async () => {
    const stop = new AbortController();
    stop.abort();
    let out = '';
    const connection: Connection = {
      name: 'replay-fn',
      invoke: async () => answer({}),
      readDepth: async () => ({ unknown: 'AccessDenied: no sqs:GetQueueAttributes' }),
    };
    const code = await runCommand(
      replay(),
      { out: (t) => void (out += t), err: () => undefined, outIsTTY: false, errIsTTY: false, env: {}, stop: stop.signal },
      async () => connection,
    );
    expect(code).toBe(130);
    expect(out).toBe(
      'replaying through replay-fn\n(what is left, and so the ETA, unknown: AccessDenied: no sqs:GetQueueAttributes)\n' +
        'Replayed 0, skipped 0, failed 0 in 0 invocations (0s).\nStopped: interrupted (Ctrl-C) before the first invocation: nothing was done.\n',
    );
  });

  it('exits 4 when only failing dead letters are left, and shows why they fail', async () => {
    const { code, out } = await runWith(replay(), [
      { received: 100, replayed: 99, failed: 1 },
      { received: 1, failed: 1, errors: [{ reason: 'malformed dead letter: record.topic is missing' }] },
    ]);
    expect(code).toBe(4);
    expect(out).toContain(
      'Stopped: only dead letters that fail are left (1 in the last invocation; the reasons are below).\nLeft by the last invocation:\n  malformed dead letter: record.topic is missing\n',
    );
  });

  it('exits 1 with what was done when an invocation fails, and one error line, no stack trace', async () => {
    const { code, out } = await runWith(replay({ json: true }), [
      { received: 100, replayed: 100 },
      new CliError('the replay function fn failed (Unhandled): Error: boom'),
    ]);
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({
      replayed: 100,
      invocations: 1,
      stoppedBecause: 'error',
      error: 'the replay function fn failed (Unhandled): Error: boom',
    });
  });

  it("exits with a CliError's code when the target cannot be reached, printing its message only", async () => {
    let err = '';
    const code = await runCommand(
      replay(),
      { out: () => undefined, err: (t) => void (err += t), outIsTTY: false, errIsTTY: false, env: {}, stop: new AbortController().signal },
      async () => {
        throw new CliError('there is no stack Nope in region eu-west-1: check the name and the region (--region, AWS_REGION).');
      },
    );
    expect(code).toBe(1);
    expect(err).toBe('error: there is no stack Nope in region eu-west-1: check the name and the region (--region, AWS_REGION).\n');
  });
});

describe('dlq report, run', () => {
  const report = (json: boolean): Runnable => ({
    name: 'report',
    target: { kind: 'local', timeoutSeconds: 60 },
    payload: { source: 'dlq', maxMessages: 10_000, dryRun: true },
    json,
  });
  const contents = {
    byTopic: Object.assign(Object.create(null), { orders: 7, __proto__x: 1 }),
    byErrorType: Object.assign(Object.create(null), { TimeoutError: 5, ValidationError: 3 }),
    byAge: { underHour: 2, underDay: 6, underWeek: 0, older: 0 },
    oldest: { enqueuedAt: '2026-12-07T10:00:00.000Z', topic: 'orders', partition: 2, offset: 41, errorType: 'TimeoutError' },
  };

  it('shows a table by topic, error type and age, and the oldest dead letter', async () => {
    const { code, out, payloads } = await runWith(report(false), [{ received: 8, replayed: 8, dryRun: true, contents }], { depths: [8] });
    expect(code).toBe(0);
    expect(payloads).toEqual([{ source: 'dlq', maxMessages: 10_000, dryRun: true }]);
    expect(out).toContain(
      'Queue: ~8 dead letters (8 visible, 0 in flight)\nA dry run read 8 dead letters: 8 replayable, 0 skipped, 0 unreadable or not replayable here.',
    );
    expect(out).toContain('\nTopic       count\norders          7\n__proto__x      1\n');
    expect(out).toContain('\nError type       count\nTimeoutError         5\nValidationError      3\n');
    expect(out).toContain(`\n${'under 1 hour'.padEnd(26)}  ${'2'.padStart(5)}\n${'1 hour to 1 day'.padEnd(26)}  ${'6'.padStart(5)}\n`);
    expect(out).toMatch(/\nOldest: 2026-12-07T10:00:00.000Z \(.+ ago\), orders partition 2 offset 41, TimeoutError\n/);
  });

  it('says when the counts are of a sample, not of the whole queue', async () => {
    const { out } = await runWith(report(false), [{ received: 8, replayed: 8, dryRun: true, contents }], { depths: [20_000] });
    expect(out).toContain(
      'A dry run read 8 dead letters: 8 replayable, 0 skipped, 0 unreadable or not replayable here.\nThe counts below are of that sample (the first the queue handed out), not of the whole queue: --sample reads up to 10,000.\n',
    );
    expect((await runWith(report(false), [{ received: 8, replayed: 8, dryRun: true, contents }], { depths: [8] })).out).not.toContain(
      'sample',
    );
  });

  it('exits 1 when the dry run read nothing and says why (the queue could not be read), 0 for an empty queue', async () => {
    const unreadable = await runWith(report(false), [{ dryRun: true, errors: [{ reason: 'a receiver stopped: AccessDenied' }] }]);
    expect(unreadable.code).toBe(1);
    expect(unreadable.out).toContain('Left by the dry run:\n  a receiver stopped: AccessDenied\n');
    expect((await runWith(report(false), [{ dryRun: true }])).code).toBe(0);
  });

  it('with --json, prints the report as one JSON line', async () => {
    const { out } = await runWith(report(true), [{ received: 8, replayed: 8, dryRun: true, contents }], { depths: [8] });
    expect(JSON.parse(out)).toEqual({
      source: 'dlq',
      queue: { visible: 8, inFlight: 0 },
      read: 8,
      replayable: 8,
      skipped: 0,
      failed: 0,
      contents: JSON.parse(JSON.stringify(contents)),
      reasons: [],
    });
  });
});
