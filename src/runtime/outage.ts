// Telling a downstream outage from a bad record. A record whose retries end with an outage error
// (or the N-th record in a row to exhaust its retries) is not dead-lettered: its partition is
// redelivered from it, no further record starts in the invocation, and the consumer opens the
// breaker (breaker-trip.ts, loaded only then), which pauses the mapping.
import { ConfigurationError, describeError } from '../contract/errors.js';
import { ENV } from '../contract/index.js';
import { breakerSettingsFrom, type BreakerSettings } from '../breaker/breaker-state.js';
import { NonRetryableError } from './errors.js';

/** How the consumer tells an outage of what it writes to from a record it cannot process. */
export interface OutageOptions {
  /**
   * Whether the error a record's last attempt failed with means the downstream is out (the
   * record is redelivered and the breaker opens) rather than that the record is bad (it is
   * dead-lettered). A `NonRetryableError` is always the record's fault. Combine with the
   * default: `(e) => e instanceof MyDbDownError || isOutageError(e)`.
   * @default isOutageError: network errors, timeouts, HTTP 429 and 5xx, AWS throttling
   */
  readonly isOutage?: (error: unknown) => boolean;
  /**
   * Records in a row, across the invocation, that exhausted their retries with retryable errors
   * while no record succeeded in between: then the failure is taken as systemic (an outage the
   * classifier did not recognise). Records dead-lettered before that stay dead-lettered, and
   * replayed dead letters (they carry `x-dlq-replay-count`) do not count: failing again is
   * what a bad record does. Off by default: a run of bad records (a producer's bug) would
   * otherwise pause the consumer, be retried when it resumes, and pause it again, until someone
   * acts; dead-lettered, they let the partition flow. Turn it on when your errors cannot be classified.
   * @default off: only errors `isOutage` recognises open the breaker
   */
  readonly consecutiveFailures?: number;
}

/** The outage handling of a handler, checked once. */
export interface OutageSettings {
  readonly isOutage: (error: unknown) => boolean;
  /** Undefined: off. */
  readonly consecutiveFailures: number | undefined;
  readonly breaker: BreakerSettings;
}

/**
 * The `outage` option with the environment: on exactly when the construct's breaker is (it sets
 * BREAKER_COOL_DOWN_SECONDS), unless `outage: false`. Redelivering outage records without a
 * breaker to pause the mapping would redeliver them forever, so `outage` without it is refused.
 */
export function outageSettingsFrom(option: false | OutageOptions | undefined, env: NodeJS.ProcessEnv): OutageSettings | undefined {
  if (option === false) return undefined;
  if (option !== undefined && (typeof option !== 'object' || option === null)) {
    throw new ConfigurationError(
      `outage must be false or an object { isOutage?, consecutiveFailures? }, got ${option === true ? 'true' : typeof option}.`,
    );
  }
  const breaker = breakerSettingsFrom(env);
  if (!breaker) {
    if (option === undefined) return undefined;
    throw new ConfigurationError(
      `kafkaConsumer's outage option needs the outage breaker, which pauses the mapping while records are redelivered, but ${ENV.breakerCoolDownSeconds} is not set: give the KafkaConsumer construct breaker: true (the default), or set ${ENV.breakerCoolDownSeconds} and ${ENV.breakerMaxCoolDownSeconds} with the resumer deployed; or remove the outage option.`,
    );
  }
  const consecutiveFailures = option?.consecutiveFailures;
  if (consecutiveFailures !== undefined && (!Number.isInteger(consecutiveFailures) || consecutiveFailures < 1)) {
    throw new ConfigurationError(`outage.consecutiveFailures must be a whole number ≥ 1, got ${consecutiveFailures}.`);
  }
  const isOutage = option?.isOutage ?? isOutageError;
  if (typeof isOutage !== 'function')
    throw new ConfigurationError(`outage.isOutage must be a function (error) => boolean, got a ${typeof isOutage}.`);
  return { isOutage, consecutiveFailures, breaker };
}

// Node's network error codes (https://nodejs.org/api/errors.html#common-system-errors) and undici's
// connection and timeout ones (https://undici.nodejs.org/#/docs/api/Errors); not its argument errors, which are bugs.
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
]);
// The AWS SDK's throttling error names (@smithy/service-error-classification THROTTLING_ERROR_CODES) and its timeouts.
const OUTAGE_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
/** How deep `cause` chains are followed (fetch's "fetch failed" carries the network error as its cause). */
const CAUSE_DEPTH = 4;

/**
 * The default outage classifier: the downstream did not answer or said it cannot now. Network
 * errors (`code` ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, EAI_AGAIN, EPIPE, EHOSTUNREACH,
 * ENETUNREACH, undici's connect/headers/body timeouts and socket errors), fetch's `fetch failed`,
 * `TimeoutError` (and an `AbortError` caused by one), HTTP 429 or 5xx in `status`,
 * `statusCode`, `$metadata.httpStatusCode` or `response.status`, and the AWS SDK's throttling
 * errors; the same in an error's `cause`. Anything else, a plain `Error` and a
 * `NonRetryableError` (whatever its cause) included, is the record's fault. Never throws,
 * whatever it is given.
 */
export function isOutageError(error: unknown): boolean {
  try {
    if (error instanceof NonRetryableError) return false;
    let current = error;
    for (let depth = 0; depth < CAUSE_DEPTH && typeof current === 'object' && current !== null; depth++) {
      if (looksLikeOutage(current as Record<string, unknown>)) return true;
      current = (current as { cause?: unknown }).cause;
    }
  } catch {
    // A getter or Proxy (its getPrototypeOf too) that throws: nothing to go by, so the record's fault.
  }
  return false;
}

function looksLikeOutage(e: Record<string, unknown>): boolean {
  const { code, name, message } = e;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  if (typeof name === 'string' && OUTAGE_NAMES.has(name)) return true;
  if (name === 'TypeError' && message === 'fetch failed') return true;
  const metadata = e.$metadata as { httpStatusCode?: unknown } | undefined;
  const response = e.response as { status?: unknown } | undefined;
  for (const status of [e.status, e.statusCode, metadata?.httpStatusCode, response?.status]) {
    if (typeof status === 'number' && (status === 429 || (status >= 500 && status <= 599))) return true;
  }
  return false;
}

/**
 * One invocation's watch for an outage: asked about each record whose retries ended, told
 * about each that succeeded. Once tripped, it stays tripped for the invocation.
 */
export class OutageDetector {
  #inARow = 0;
  /** Why the breaker must open; undefined while no outage is seen. */
  reason: string | undefined;

  constructor(readonly settings: OutageSettings) {}

  get tripped(): boolean {
    return this.reason !== undefined;
  }

  succeeded(): void {
    this.#inARow = 0;
  }

  /**
   * A record's attempts ended with `error`; `counts`: it was retryable and the record is not a
   * replayed dead letter, so it counts toward `consecutiveFailures`. True: redeliver it; false: dead-letter it.
   */
  exhausted(error: unknown, counts: boolean): boolean {
    if (this.tripped) return true;
    const { consecutiveFailures } = this.settings;
    if (this.#classify(error)) {
      this.reason = `an outage error (${describeError(error).type})`;
    } else if (consecutiveFailures !== undefined && counts && ++this.#inARow >= consecutiveFailures) {
      this.reason = `${this.#inARow} records in a row failed all their attempts (outage.consecutiveFailures)`;
    }
    return this.tripped;
  }

  /** Whether `error` is an outage's (the classifier's answer; never throws). */
  isOutage(error: unknown): boolean {
    return this.#classify(error);
  }

  // A NonRetryableError is the record's fault by definition. A user classifier that throws (or a
  // thrown Proxy whose prototype cannot be read) says nothing: the record's fault, as without one.
  #classify(error: unknown): boolean {
    try {
      return !(error instanceof NonRetryableError) && this.settings.isOutage(error) === true;
    } catch {
      return false;
    }
  }
}
