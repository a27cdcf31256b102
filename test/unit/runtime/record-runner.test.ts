import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeadLetters } from '../../../src/runtime/dead-letters.js';
import { resolveDeserializer } from '../../../src/runtime/deserializers.js';
import { NonRetryableError } from '../../../src/runtime/errors.js';
import { decodeEvent } from '../../../src/runtime/event.js';
import { OutcomeLedger } from '../../../src/runtime/outcome-ledger.js';
import type { KafkaRecord } from '../../../src/runtime/record.js';
import { RecordRunner } from '../../../src/runtime/record-runner.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { captureOutput } from '../../support/output.js';
import type { InvocationGuard, RecordState } from '../../../src/runtime/idempotency/ledger.js';
import { IdempotencyKeyError } from '../../../src/runtime/errors.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A runner over records t-0@0..n-1 (keys k0.., JSON values); dead letters are only recorded. */
function setUp(
  n: number,
  {
    retry = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 }),
    deadline = Number.POSITIVE_INFINITY,
    keys = false,
    guard = undefined as InvocationGuard | undefined,
  } = {},
) {
  const event = decodeEvent(
    buildKafkaEvent(
      Array.from({ length: n }, (_, offset) => ({
        topic: 't',
        partition: 0,
        offset,
        key: `k${offset}`,
        value: JSON.stringify({ offset }),
      })),
    ),
  );
  const ledger = new OutcomeLedger(event, Date.now());
  const deadLettered: Array<{ offset: number; error: unknown; attempts: number; firstFailureAt: number }> = [];
  const deadLetters = {
    add: (r: KafkaRecord<unknown, unknown>, error: unknown, attempts: number, firstFailureAt: number) =>
      void deadLettered.push({ offset: r.offset, error, attempts, firstFailureAt }),
  } as unknown as DeadLetters;
  const config = {
    retry,
    deserializeValue: resolveDeserializer('json', 'value'),
    deserializeKey: keys ? resolveDeserializer('string', 'key') : undefined,
    logger: new Logger({ serviceName: 's', logLevel: 'DEBUG' }),
  };
  const runner = new RecordRunner(config);
  runner.begin({ context: lambdaContext(), ledger, deadLetters, deadline, guard });
  const partition = event.partitions[0]!;
  const stats = ledger.topicStats('t');
  /** Runs the first record alone; resolves true once it finished (processed or dead-lettered), false when it is to be redelivered. */
  const runFirst = (call: Parameters<RecordRunner['runInOrder']>[2]) =>
    runner
      .runInOrder(partition, partition.entries.slice(0, 1), call, stats)
      .then(() => ledger.response(true).batchItemFailures.length === 0);
  return { runner, ledger, deadLettered, partition, runFirst, stats };
}

describe('RecordRunner: one record', () => {
  it('counts a record processed at once when the function returns without a promise', async () => {
    const { runFirst, stats } = setUp(1);
    const seen: unknown[] = [];
    const finished = runFirst((r) => void seen.push(r.value, r.key));
    expect(stats).toMatchObject({ processed: 1, retried: 0 }); // before any await: no promise was waited for
    expect(await finished).toBe(true);
    expect(seen).toEqual([{ offset: 0 }, Buffer.from('k0')]);
  });

  it('waits for a thenable that is not a native promise, and retries when it rejects', async () => {
    const { runFirst, stats } = setUp(1);
    let calls = 0;
    const thenable = (fail: boolean): PromiseLike<void> => ({
      then: (resolve, reject) =>
        void setTimeout(() => (fail ? reject?.(new Error('flaky')) : resolve?.()), 1) as unknown as PromiseLike<never>,
    });
    expect(await runFirst(() => thenable(++calls < 2))).toBe(true);
    expect([calls, stats.processed, stats.retried]).toEqual([2, 1, 1]);
  });

  it('deserializes keys too when a key deserializer is set', async () => {
    const { runFirst, stats } = setUp(1, { keys: true });
    const keys: unknown[] = [];
    expect(await runFirst(async (r) => void keys.push(r.key))).toBe(true);
    expect(keys).toEqual(['k0']);
    expect(stats.processed).toBe(1);
  });

  it('retries a function that throws or rejects, counting the retries, then succeeds', async () => {
    for (const fail of [
      (e: Error) => {
        throw e;
      },
      (e: Error) => Promise.reject(e),
    ]) {
      const { runFirst, stats, deadLettered } = setUp(1);
      let calls = 0;
      expect(await runFirst(() => (++calls < 3 ? fail(new Error('flaky')) : undefined))).toBe(true);
      expect([calls, stats.processed, stats.retried, deadLettered.length]).toEqual([3, 1, 2, 0]);
    }
  });

  it('dead-letters after the last attempt with the last error, the attempts and when it first failed', async () => {
    vi.useFakeTimers({ now: 7_000, toFake: ['Date'] });
    const { runFirst, stats, deadLettered } = setUp(1);
    let calls = 0;
    expect(
      await runFirst(() => {
        throw new Error(`failure ${++calls}`);
      }),
    ).toBe(true);
    expect(deadLettered.map((d) => [d.offset, (d.error as Error).message, d.attempts, d.firstFailureAt])).toEqual([
      [0, 'failure 3', 3, 7_000],
    ]);
    expect(stats).toMatchObject({ processed: 0, retried: 2 });
  });

  it('dead-letters a non-retryable error after one attempt', async () => {
    const { runFirst, stats, deadLettered } = setUp(1);
    expect(
      await runFirst(async () => {
        throw new NonRetryableError('no');
      }),
    ).toBe(true);
    expect(deadLettered.map((d) => d.attempts)).toEqual([1]);
    expect(stats.retried).toBe(0);
  });

  it('starts nothing at or after the deadline', async () => {
    vi.useFakeTimers({ now: 1_000, toFake: ['Date'] });
    const { runFirst } = setUp(1, { deadline: 1_000 });
    let calls = 0;
    expect(await runFirst(() => void calls++)).toBe(false);
    expect(calls).toBe(0);
  });

  it('gives up retrying when the next delay would end at the deadline: the record is not finished', async () => {
    vi.useFakeTimers({ now: 0 });
    const retry = new RetryPolicy({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 100 }, () => 0.5); // 50 ms each
    const { runFirst, stats, deadLettered } = setUp(1, { retry, deadline: 100 });
    const attemptsAt: number[] = [];
    const done = runFirst(() => {
      attemptsAt.push(Date.now());
      throw new Error('down');
    });
    await vi.runAllTimersAsync();
    expect(await done).toBe(false);
    expect(attemptsAt).toEqual([0, 50]); // a third at 100 would start at the deadline
    expect(deadLettered).toEqual([]);
    expect(stats.retried).toBe(1);
  });

  it('logs each retry at debug level with the record and the error type (not its message, which may quote the record)', async () => {
    const lines = captureOutput();
    const { runFirst } = setUp(1, { retry: new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 }) });
    await runFirst(() => {
      throw new Error('flaky');
    });
    expect(
      lines
        .filter((l) => l.message === 'retrying record')
        .map(({ topic, partition, offset, attempt, errorType }) => ({ topic, partition, offset, attempt, errorType })),
    ).toEqual([{ topic: 't', partition: 0, offset: 0, attempt: 1, errorType: 'Error' }]);
  });
});

describe('RecordRunner.runInOrder', () => {
  it('runs the records in order and stops at the first one not finished, reporting its offset', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const { runner, partition, ledger, stats } = setUp(4, { deadline: 10 });
    const seen: number[] = [];
    await runner.runInOrder(
      partition,
      partition.entries,
      (r) => {
        seen.push(r.offset);
        if (r.offset === 1) vi.setSystemTime(10); // out of time from here on
      },
      stats,
    );
    expect(seen).toEqual([0, 1]);
    expect(ledger.response(true).batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 2 } }]);
  });

  it('reports nothing when every record finishes, synchronously or not', async () => {
    const { runner, partition, ledger, stats } = setUp(3);
    await runner.runInOrder(
      partition,
      partition.entries,
      async (r) => {
        if (r.offset === 1) throw new NonRetryableError('x');
      },
      stats,
    );
    expect(ledger.response(true).batchItemFailures).toEqual([]);
    expect(stats.processed).toBe(2);
  });
});

describe('RecordRunner, more', () => {
  it('dead-letters a value that is not base64, naming the value', async () => {
    const { runner, partition, deadLettered, stats } = setUp(1);
    const entry = { ...partition.entries[0]!, value: 'not base64!' };
    await runner.runInOrder(partition, [entry], () => undefined, stats);
    expect((deadLettered[0]!.error as Error).message).toBe('The value of t-0@0 is not valid base64 (11 characters).');
  });

  it('retries a function that throws something other than an Error', async () => {
    captureOutput();
    const { runFirst, deadLettered } = setUp(1);
    expect(
      await runFirst(() => {
        throw undefined;
      }),
    ).toBe(true);
    expect(deadLettered.map((d) => [d.error, d.attempts])).toEqual([[undefined, 3]]);
  });
});

describe('RecordRunner with the idempotency ledger', () => {
  /** A guard that answers `states[offset]` and records what it is told is done. */
  const guardOf = (states: RecordState[], claimed = true) => {
    const marked: number[] = [];
    const guard = {
      claimed: async () => claimed,
      stateOf: (_p: unknown, e: { offset: number }) => states[e.offset]!,
      markDone: (_p: unknown, e: { offset: number }) => void marked.push(e.offset),
    } as unknown as InvocationGuard;
    return { guard, marked };
  };

  it('skips done records and counts them, runs the others, and tells the ledger only of those processed', async () => {
    const { guard, marked } = guardOf(['done', 'run', 'run', 'done']);
    const { runner, partition, stats, deadLettered, ledger } = setUp(4, { guard });
    const ran: number[] = [];
    await runner.runInOrder(
      partition,
      partition.entries,
      (r) => {
        ran.push(r.offset);
        if (r.offset === 2) throw new NonRetryableError('no');
      },
      stats,
    );
    expect(ran).toEqual([1, 2]);
    expect(stats).toMatchObject({ processed: 1, skippedAsDone: 2 });
    expect(deadLettered.map((d) => d.offset)).toEqual([2]);
    expect(marked).toEqual([1]); // a dead-lettered record is not done
    expect(ledger.response(true).batchItemFailures).toEqual([]);
  });

  it('redelivers the partition from a record the ledger cannot decide, and from its first record when it is not claimed', async () => {
    const undecided = setUp(3, { guard: guardOf(['run', 'unknown', 'run']).guard });
    const ran: number[] = [];
    await undecided.runner.runInOrder(undecided.partition, undecided.partition.entries, (r) => void ran.push(r.offset), undecided.stats);
    expect(ran).toEqual([0]);
    expect(undecided.ledger.response(true).batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 1 } }]);

    const unclaimed = setUp(3, { guard: guardOf(['run', 'run', 'run'], false).guard });
    await unclaimed.runner.runInOrder(unclaimed.partition, unclaimed.partition.entries, () => expect.fail('ran'), unclaimed.stats);
    expect(unclaimed.ledger.response(true).batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 0 } }]);
  });

  it('tells the ledger of a record that succeeded on a retry', async () => {
    const { guard, marked } = guardOf(['run']);
    const { runner, partition, stats } = setUp(1, { guard });
    let calls = 0;
    await runner.runInOrder(
      partition,
      partition.entries,
      () => {
        if (++calls === 1) throw new Error('flaky');
      },
      stats,
    );
    expect([calls, stats.processed, marked]).toEqual([2, 1, [0]]);
  });

  it('dead-letters a record without a valid business key, unrun', async () => {
    const error = new IdempotencyKeyError("idempotencyLedger's key returned an empty string for t-0@0");
    const { runner, partition, stats, deadLettered } = setUp(1, { guard: guardOf([error]).guard });
    await runner.runInOrder(partition, partition.entries, () => expect.fail('ran'), stats);
    expect(deadLettered).toMatchObject([{ offset: 0, error, attempts: 1 }]);
  });
});
