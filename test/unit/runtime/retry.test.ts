import { afterEach, describe, expect, it, vi } from 'vitest';
import { RetryPolicy, isTransientAwsError, sendWithPartialRetries } from '../../../src/runtime/retry.js';
import { ConfigurationError, KafkaConsumersError } from '../../../src/contract/errors.js';
import { BatchEntryError, DeserializationError, NonRetryableError } from '../../../src/runtime/errors.js';

afterEach(() => vi.useRealTimers());

describe('RetryPolicy', () => {
  it('backs off exponentially with full jitter, capped', () => {
    const top = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 10 }, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6].map((a) => top.delayMs(a))).toEqual([99, 199, 399, 799, 999, 999]);
    const middle = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 10 }, () => 0.5);
    expect([1, 2, 3, 4, 5].map((a) => middle.delayMs(a))).toEqual([50, 100, 200, 400, 500]);
    expect(new RetryPolicy({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 }).worstCaseDelayMs()).toBe(100 + 200 + 250);
  });

  it('classifies errors: non-retryable classes, a predicate, and the attempt budget', () => {
    class Fatal extends Error {}
    const policy = new RetryPolicy({ maxAttempts: 3, nonRetryableErrors: [Fatal], isRetryable: (e) => (e as Error).message !== 'nope' });
    expect(policy.shouldRetry(new Error('x'), 1)).toBe(true);
    expect(policy.shouldRetry(new Error('x'), 3)).toBe(false);
    expect(policy.shouldRetry(new Fatal('x'), 1)).toBe(false);
    expect(policy.shouldRetry(new Error('nope'), 1)).toBe(false);
    expect(policy.shouldRetry(new NonRetryableError('x'), 1)).toBe(false);
    expect(policy.shouldRetry(new DeserializationError('x'), 1)).toBe(false);
  });

  it('rejects impossible settings with the value in the message', () => {
    expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow('retry.maxAttempts must be a whole number ≥ 1, got 0');
    expect(() => new RetryPolicy({ baseDelayMs: 10, maxDelayMs: 5 })).toThrow('0 ≤ baseDelayMs ≤ maxDelayMs');
  });

  it('knows transient AWS errors', () => {
    expect(isTransientAwsError({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    // DynamoDB's throttling (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html#Programming.Errors.RetryAndBackoff)
    expect(isTransientAwsError({ name: 'ProvisionedThroughputExceededException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isTransientAwsError({ name: 'X', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransientAwsError({ name: 'ECONNREFUSED' })).toBe(true);
    expect(isTransientAwsError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isTransientAwsError({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } })).toBe(false);
  });
});

describe('RetryPolicy defaults and bounds', () => {
  it('defaults to 3 attempts, 100 ms to 2 s, and retries any error', () => {
    const policy = new RetryPolicy();
    expect([policy.maxAttempts, policy.baseDelayMs, policy.maxDelayMs]).toEqual([3, 100, 2_000]);
    expect(policy.shouldRetry(new Error('x'), 2)).toBe(true);
    expect(policy.shouldRetry('not even an Error', 1)).toBe(true);
    expect(policy.worstCaseDelayMs()).toBe(100 + 200);
    expect(new RetryPolicy({ maxAttempts: 1 }).worstCaseDelayMs()).toBe(0);
  });

  it('draws each delay from 0 up to the cap, never reaching it', () => {
    const zero = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000 }, () => 0);
    expect([1, 2, 5].map((a) => zero.delayMs(a))).toEqual([0, 0, 0]);
    const top = new RetryPolicy({ baseDelayMs: 100, maxDelayMs: 1_000 }, () => 0.9999);
    expect(top.delayMs(1)).toBe(99);
  });

  it.each([
    [{ maxAttempts: 1.5 }, 'retry.maxAttempts must be a whole number ≥ 1, got 1.5.'],
    [{ maxAttempts: -1 }, 'retry.maxAttempts must be a whole number ≥ 1, got -1.'],
    [{ baseDelayMs: -1, maxDelayMs: 5 }, 'retry delays must satisfy 0 ≤ baseDelayMs ≤ maxDelayMs, got -1 and 5.'],
    [{ baseDelayMs: Number.NaN }, 'retry delays must satisfy 0 ≤ baseDelayMs ≤ maxDelayMs, got NaN and 2000.'],
    [{ baseDelayMs: 10, maxDelayMs: 5 }, 'retry delays must satisfy 0 ≤ baseDelayMs ≤ maxDelayMs, got 10 and 5.'],
  ])('refuses %j, with the value in the message', (options, message) => {
    expect(() => new RetryPolicy(options)).toThrow(ConfigurationError);
    expect(() => new RetryPolicy(options)).toThrow(message);
  });

  it('takes the edges of the allowed settings', () => {
    expect(() => new RetryPolicy({ maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 })).not.toThrow();
    expect(() => new RetryPolicy({ baseDelayMs: 5, maxDelayMs: 5 })).not.toThrow();
  });
});

describe('isTransientAwsError', () => {
  it.each([
    ['ThrottlingException', 400],
    ['RequestThrottled', 400],
    ['TimeoutError', undefined],
    ['RequestLimitExceeded', 400],
    ['ServiceUnavailable', 400],
    ['InternalError', 400],
    ['SlowDown', 400],
    ['slowdown', 400],
  ])('retries %s whatever its status (%s)', (name, status) => {
    expect(isTransientAwsError({ name, $metadata: { httpStatusCode: status } })).toBe(true);
  });

  it('judges by status: 429 and 5xx are transient, other 4xx are not', () => {
    const withStatus = (httpStatusCode: number) => isTransientAwsError({ name: 'X', $metadata: { httpStatusCode } });
    expect([429, 500, 503, 428, 499, 400, 404].map(withStatus)).toEqual([true, true, true, false, false, false, false]);
  });

  it('retries what never reached the server, except a request the SDK refused as invalid', () => {
    expect(isTransientAwsError({ name: 'ECONNRESET' })).toBe(true);
    expect(isTransientAwsError({})).toBe(true);
    expect(isTransientAwsError({ $metadata: {} })).toBe(true);
    expect(isTransientAwsError({ name: 'InvalidSignature' })).toBe(false);
  });

  it("trusts the SDK's $retryable, and is false for what is not an error object", () => {
    expect(isTransientAwsError({ name: 'AccessDenied', $retryable: {}, $metadata: { httpStatusCode: 403 } })).toBe(true);
    expect(isTransientAwsError({ name: 'AccessDenied', $retryable: undefined, $metadata: { httpStatusCode: 403 } })).toBe(false);
    for (const value of [undefined, null, 'ThrottlingException', 503]) expect(isTransientAwsError(value)).toBe(false);
  });
});

describe('sendWithPartialRetries', () => {
  const policy = (maxAttempts = 3) => new RetryPolicy({ maxAttempts, baseDelayMs: 0, maxDelayMs: 0 });

  it('sends again only the entries that failed, by their index in the last call, until they pass', async () => {
    const calls: string[][] = [];
    const failing = new Set(['b', 'd']);
    const givenUp = await sendWithPartialRetries(
      ['a', 'b', 'c', 'd'],
      async (batch) => {
        calls.push([...batch]);
        const failures = batch.flatMap((entry, index) => (failing.has(entry) ? [{ index, error: new Error(entry) }] : []));
        failing.delete('b');
        return failures;
      },
      policy(),
    );
    expect(calls).toEqual([['a', 'b', 'c', 'd'], ['b', 'd'], ['d']]);
    expect(givenUp.map(({ entry, error }) => [entry, (error as Error).message])).toEqual([['d', 'd']]);
  });

  it('counts a call that throws as every entry failing with that error', async () => {
    const down = new Error('down');
    let calls = 0;
    const givenUp = await sendWithPartialRetries(
      [1, 2],
      async () => {
        calls++;
        throw down;
      },
      policy(2),
    );
    expect(calls).toBe(2);
    expect(givenUp).toEqual([
      { entry: 1, error: down },
      { entry: 2, error: down },
    ]);
  });

  it('gives up at once on an error the policy does not retry', async () => {
    let calls = 0;
    const fatal = new NonRetryableError('no');
    const givenUp = await sendWithPartialRetries(
      ['a'],
      async () => {
        calls++;
        return [{ index: 0, error: fatal }];
      },
      policy(5),
    );
    expect(givenUp).toEqual([{ entry: 'a', error: fatal }]);
    expect(calls).toBe(1);
  });

  it('makes no retry whose delay would end at or after the deadline', async () => {
    vi.useFakeTimers({ now: 1_000, toFake: ['Date'] });
    const delayed = new RetryPolicy({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 100 }, () => 0.5); // 50 ms each
    let calls = 0;
    const send = async () => {
      calls++;
      return [{ index: 0, error: new Error('busy') }];
    };
    expect(await sendWithPartialRetries(['a'], send, delayed, 1_050)).toHaveLength(1);
    expect(calls).toBe(1);
    calls = 0;
    vi.useRealTimers();
    const start = Date.now();
    expect(await sendWithPartialRetries(['a'], send, delayed, start + 1_000)).toHaveLength(1);
    expect(calls).toBe(5);
  });

  it('returns nothing for nothing to send', async () => {
    let calls = 0;
    expect(
      await sendWithPartialRetries(
        [],
        async () => {
          calls++;
          return [];
        },
        policy(),
      ),
    ).toEqual([]);
    expect(calls).toBe(0);
  });
});

describe('BatchEntryError', () => {
  it('is named by the code, with the message when there is one, and an HTTP status that says whose fault it was', () => {
    const sender = new BatchEntryError('InvalidMessageContents', 'bad body', true);
    expect([sender.name, sender.message, (sender as unknown as { $metadata: unknown }).$metadata]).toEqual([
      'InvalidMessageContents',
      'InvalidMessageContents: bad body',
      { httpStatusCode: 400 },
    ]);
    expect(isTransientAwsError(sender)).toBe(false);
    const own = new BatchEntryError('InternalFailure', undefined, false);
    expect([own.name, own.message, (own as unknown as { $metadata: unknown }).$metadata]).toEqual([
      'InternalFailure',
      'InternalFailure',
      { httpStatusCode: 500 },
    ]);
    expect(isTransientAwsError(own)).toBe(true);
    expect(new BatchEntryError('X', '', false).message).toBe('X');
    expect([sender.code, sender.senderFault, own.code, own.senderFault]).toEqual([
      'InvalidMessageContents',
      true,
      'InternalFailure',
      false,
    ]);
    expect(own).toBeInstanceOf(KafkaConsumersError);
  });
});

describe('sendWithPartialRetries backoff', () => {
  it("waits the policy's delay before sending the failed entries again", async () => {
    vi.useFakeTimers({ now: 0 });
    const policy = new RetryPolicy({ maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 100 }, () => 0.5); // 50 ms
    const sentAt: number[] = [];
    const done = sendWithPartialRetries(
      ['a'],
      async () => {
        sentAt.push(Date.now());
        return sentAt.length === 1 ? [{ index: 0, error: new Error('busy') }] : [];
      },
      policy,
    );
    await vi.advanceTimersByTimeAsync(49);
    expect(sentAt).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(await done).toEqual([]);
    expect(sentAt).toEqual([0, 50]);
  });
});
