import { describe, expect, it } from 'vitest';
import { RetryPolicy, isTransientAwsError } from '../../functions/runtime/retry';
import { DeserializationError, NonRetryableError } from '../../functions/runtime/errors';

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
    expect(isTransientAwsError({ name: 'X', $metadata: { httpStatusCode: 503 } })).toBe(true);
    expect(isTransientAwsError({ name: 'ECONNREFUSED' })).toBe(true);
    expect(isTransientAwsError({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } })).toBe(false);
    expect(isTransientAwsError({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } })).toBe(false);
  });
});
