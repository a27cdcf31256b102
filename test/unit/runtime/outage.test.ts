import { describe, expect, it } from 'vitest';
import { OutageDetector, isOutageError, outageSettingsFrom } from '../../../src/runtime/outage.js';
import { DeserializationError, NonRetryableError } from '../../../src/runtime/errors.js';

const withCode = (code: string) => Object.assign(new Error(`connect ${code} 10.0.0.1:5432`), { code });
const BREAKER_ENV = { BREAKER_COOL_DOWN_SECONDS: '60' };

describe('isOutageError (the default classifier)', () => {
  it('takes network errors, timeouts, throttling and 429/5xx answers as outages', () => {
    const outages: unknown[] = [
      ...['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH'].map(withCode),
      withCode('UND_ERR_CONNECT_TIMEOUT'),
      withCode('UND_ERR_SOCKET'),
      Object.assign(new TypeError('fetch failed'), { cause: withCode('ECONNREFUSED') }),
      new TypeError('fetch failed'),
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      Object.assign(new Error('This operation was aborted'), { name: 'AbortError', cause: new DOMException('t', 'TimeoutError') }),
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('x'), { name: 'ProvisionedThroughputExceededException' }),
      Object.assign(new Error('internal'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }),
      Object.assign(new Error('Service Unavailable'), { status: 503 }),
      Object.assign(new Error('Too Many Requests'), { statusCode: 429 }),
      Object.assign(new Error('Request failed with status code 502'), { response: { status: 502 } }),
      Object.assign(new Error('wrapped'), { cause: Object.assign(new Error('deeper'), { cause: withCode('ECONNRESET') }) }),
    ];
    for (const error of outages) expect(isOutageError(error), String(error)).toBe(true);
  });

  it("takes everything else as the record's fault: a plain Error, 4xx answers, argument errors", () => {
    const notOutages: unknown[] = [
      new Error('order 42 cannot be processed'),
      new Error('downstream timed out'), // words are not a classification
      new TypeError("Cannot read properties of undefined (reading 'id')"),
      Object.assign(new Error('Bad Request'), { status: 400 }),
      Object.assign(new Error('x'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('x'), { status: '503' }), // not a number
      Object.assign(new Error('x'), { code: 'UND_ERR_INVALID_ARG' }),
      Object.assign(new Error('aborted'), { name: 'AbortError' }), // an abort, not a timeout
      new DeserializationError('bad value', { field: 'value', cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }),
      undefined,
      null,
      'ECONNREFUSED',
      42,
    ];
    for (const error of notOutages) expect(isOutageError(error), String(error)).toBe(false);
  });

  it('never throws: a getter that throws, a Proxy, a cause cycle', () => {
    const hostile = Object.defineProperty(new Error('x'), 'code', {
      get() {
        throw new Error('getter');
      },
    });
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    );
    const cyclic: { cause?: unknown } = new Error('a');
    cyclic.cause = cyclic;
    expect(isOutageError(hostile)).toBe(false);
    expect(isOutageError(proxy)).toBe(false);
    expect(isOutageError(cyclic)).toBe(false);
  });
});

describe('outage settings', () => {
  it("are on exactly when the construct's breaker sets BREAKER_COOL_DOWN_SECONDS, unless outage is false", () => {
    expect(outageSettingsFrom(undefined, {})).toBeUndefined();
    expect(outageSettingsFrom(false, BREAKER_ENV)).toBeUndefined();
    expect(outageSettingsFrom(undefined, BREAKER_ENV)).toEqual({
      isOutage: isOutageError,
      consecutiveFailures: 10,
      breaker: { coolDownSeconds: 60, maxCoolDownSeconds: 900 },
    });
  });

  it('refuse an outage option without the breaker, naming the fix', () => {
    expect(() => outageSettingsFrom({ consecutiveFailures: 3 }, {})).toThrow(
      /outage option needs the outage breaker.*BREAKER_COOL_DOWN_SECONDS is not set: give the KafkaConsumer construct breaker: true/,
    );
  });

  it('refuse a consecutiveFailures that is not a whole number ≥ 1, and an isOutage that is not a function', () => {
    for (const n of [0, -1, 1.5, Number.NaN]) {
      expect(() => outageSettingsFrom({ consecutiveFailures: n }, BREAKER_ENV)).toThrow(
        `outage.consecutiveFailures must be a whole number ≥ 1, got ${n}.`,
      );
    }
    expect(() => outageSettingsFrom({ isOutage: 'yes' as never }, BREAKER_ENV)).toThrow('outage.isOutage must be a function');
    expect(() => outageSettingsFrom(true as never, BREAKER_ENV)).toThrow('outage must be false or an object');
  });
});

describe('OutageDetector', () => {
  const detector = (consecutiveFailures = 3, isOutage = isOutageError) =>
    new OutageDetector({ isOutage, consecutiveFailures, breaker: { coolDownSeconds: 60, maxCoolDownSeconds: 900 } });

  it('trips on the first outage error and stays tripped', () => {
    const d = detector();
    expect(d.exhausted(new Error('bad record'), true)).toBe(false);
    expect(d.exhausted(withCode('ECONNREFUSED'), true)).toBe(true);
    expect(d.reason).toBe('an outage error (Error)');
    expect(d.exhausted(new Error('bad record'), true)).toBe(true);
  });

  it('trips on the N-th retryable failure in a row; a success in between starts the count again', () => {
    const d = detector(3);
    expect(d.exhausted(new Error('a'), true)).toBe(false);
    expect(d.exhausted(new Error('b'), true)).toBe(false);
    d.succeeded();
    expect(d.exhausted(new Error('c'), true)).toBe(false);
    expect(d.exhausted(new Error('d'), true)).toBe(false);
    expect(d.tripped).toBe(false);
    expect(d.exhausted(new Error('e'), true)).toBe(true);
    expect(d.reason).toBe('3 records in a row failed all their attempts (outage.consecutiveFailures)');
  });

  it('counts no non-retryable failure, and never takes a NonRetryableError for an outage', () => {
    const d = detector(1, () => true);
    expect(d.exhausted(Object.assign(new NonRetryableError('bad'), { code: 'ECONNREFUSED' }), false)).toBe(false);
    expect(detector(2).exhausted(new Error('x'), false)).toBe(false);
  });

  it("takes a user classifier that throws (or answers anything but true) as the record's fault", () => {
    const throwing = detector(5, () => {
      throw new Error('classifier bug');
    });
    expect(throwing.exhausted(withCode('ECONNREFUSED'), true)).toBe(false);
    expect(detector(5, (() => 'yes') as never).exhausted(new Error('x'), true)).toBe(false);
    const unreadable = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    expect(detector(5, () => true).exhausted(unreadable, true)).toBe(false);
  });
});
