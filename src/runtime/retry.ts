import { ConfigurationError } from '../contract/errors.js';
import { NonRetryableError } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included. @default 3 */
  readonly maxAttempts?: number;
  /** Delay before the first retry; each retry doubles it. @default 100 ms */
  readonly baseDelayMs?: number;
  /** Upper bound of one delay. @default 2000 ms */
  readonly maxDelayMs?: number;
  /**
   * Decides whether an error is worth retrying. `NonRetryableError` (and so
   * `DeserializationError`) is never retried, whatever this says.
   * @default every other error is retryable
   */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Error classes that are never retried. @default [] */
  readonly nonRetryableErrors?: ReadonlyArray<new (...args: never[]) => Error>;
}

/**
 * The one retry policy: exponential backoff with full jitter (a delay drawn
 * uniformly from 0 up to min(max, base × 2^(attempt-1))), a bounded number of attempts
 * and a classification of errors. Used for user code, dead-letter sends and replay.
 */
export class RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly #isRetryable: (error: unknown) => boolean;
  readonly #nonRetryable: ReadonlyArray<new (...args: never[]) => Error>;

  constructor(
    options: RetryOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.maxAttempts = options.maxAttempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 2000;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1) {
      throw new ConfigurationError(`retry.maxAttempts must be a whole number ≥ 1, got ${this.maxAttempts}.`);
    }
    if (!(this.baseDelayMs >= 0) || !(this.maxDelayMs >= this.baseDelayMs)) {
      throw new ConfigurationError(
        `retry delays must satisfy 0 ≤ baseDelayMs ≤ maxDelayMs, got ${this.baseDelayMs} and ${this.maxDelayMs}.`,
      );
    }
    this.#isRetryable = options.isRetryable ?? (() => true);
    this.#nonRetryable = options.nonRetryableErrors ?? [];
  }

  isRetryable(error: unknown): boolean {
    if (error instanceof NonRetryableError) return false;
    if (this.#nonRetryable.some((type) => error instanceof type)) return false;
    return this.#isRetryable(error);
  }

  /** Whether another attempt may follow `attempt` failed attempts of this error. */
  shouldRetry(error: unknown, attempt: number): boolean {
    return attempt < this.maxAttempts && this.isRetryable(error);
  }

  /** The delay before attempt `attempt + 1`, after `attempt` failures (full jitter). */
  delayMs(attempt: number): number {
    const cap = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * cap);
  }

  /** The longest time the retries of one record can sleep in all: what a Lambda timeout must leave room for. */
  worstCaseDelayMs(): number {
    let total = 0;
    for (let attempt = 1; attempt < this.maxAttempts; attempt++) total += Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return total;
  }
}

/**
 * Transient AWS failures: throttling, 5xx, timeouts and network errors (no HTTP response at all).
 * DynamoDB throttles with ProvisionedThroughputExceededException, an HTTP 400 the SDK marks
 * retryable only when its own retries are on (ours are off: this policy retries).
 */
export function isTransientAwsError(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!e || typeof e !== 'object') return false;
  if (e.$retryable) return true;
  if (/throttl|timeout|RequestLimitExceeded|ProvisionedThroughputExceeded|ServiceUnavailable|InternalError|SlowDown/i.test(e.name ?? ''))
    return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined) return !(e.name ?? '').startsWith('Invalid'); // never reached the server
  return status === 429 || status >= 500;
}

/**
 * The backoff of the AWS calls the runtime, the replay and the breaker make: 50 ms doubling to
 * 1 s, transient failures only, and those `alsoRetry` names (the Lambda API's "a change is in progress").
 */
export function transientAwsRetry(maxAttempts: number, alsoRetry?: (error: unknown) => boolean): RetryPolicy {
  const isRetryable = alsoRetry ? (error: unknown) => isTransientAwsError(error) || alsoRetry(error) : isTransientAwsError;
  return new RetryPolicy({ maxAttempts, baseDelayMs: 50, maxDelayMs: 1_000, isRetryable });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One call, retried per `policy` until `deadline`; throws its last error when it fails for good. */
export async function callWithRetries<T>(send: () => Promise<T>, policy: RetryPolicy, deadline = Number.POSITIVE_INFINITY): Promise<T> {
  let result: T | undefined;
  const givenUp = await sendWithPartialRetries(
    [send],
    async ([call]) => {
      result = await call!();
      return [];
    },
    policy,
    deadline,
  );
  if (givenUp.length > 0) throw givenUp[0]!.error;
  return result as T;
}

/** One entry of a batch call that did not go through, by its index in the call. */
export interface EntryFailure {
  readonly index: number;
  readonly error: unknown;
}

/**
 * Sends a batch and retries just the entries the service reports as failed (SQS's
 * `Failed[]`), or all of them when the call itself fails, per `policy`, until `deadline`.
 * Returns the entries that failed for good, each with its last error.
 */
export async function sendWithPartialRetries<T>(
  entries: readonly T[],
  send: (batch: readonly T[]) => Promise<readonly EntryFailure[]>,
  policy: RetryPolicy,
  deadline = Number.POSITIVE_INFINITY,
): Promise<Array<{ entry: T; error: unknown }>> {
  const givenUp: Array<{ entry: T; error: unknown }> = [];
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    let failures: readonly EntryFailure[];
    try {
      failures = await send(pending);
    } catch (error) {
      failures = pending.map((_, index) => ({ index, error }));
    }
    const delay = policy.delayMs(attempt);
    const again = Date.now() + delay < deadline;
    const retry: T[] = [];
    for (const { index, error } of failures) {
      const entry = pending[index]!;
      if (again && policy.shouldRetry(error, attempt)) retry.push(entry);
      else givenUp.push({ entry, error });
    }
    if (retry.length > 0) await sleep(delay);
    pending = retry;
  }
  return givenUp;
}
