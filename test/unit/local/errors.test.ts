import { describe, expect, it } from 'vitest';
import { DownstreamOutageError, EmulatorError, InvocationTimeoutError } from '../../../local/errors.js';
import { isOutageError } from '../../../src/runtime/outage.js';
import { describeError, KafkaConsumersError } from '../../../src/contract/errors.js';
import { parseResponse } from '../../../local/esm/lambda-response.js';

describe("the local tools' errors", () => {
  it("belong to the library's family, so that a caller catches them as it catches the runtime's", () => {
    expect(new EmulatorError('x')).toBeInstanceOf(KafkaConsumersError);
    expect(new InvocationTimeoutError(1_500)).toBeInstanceOf(EmulatorError);
    expect(() => parseResponse({ batchItemFailures: 'all' }, [])).toThrow(EmulatorError);
  });

  it("word a time-out as Lambda's log line, the timeout as a field", () => {
    expect(new InvocationTimeoutError(1_500)).toMatchObject({
      name: 'InvocationTimeoutError',
      message: 'Task timed out after 1.50 seconds',
      timeoutMs: 1_500,
    });
  });

  // The chaos run's outage is what the runtime's default classifier calls an outage (a refused
  // connection), and its dead letters are told apart by the type the envelope records.
  it("DownstreamOutageError is an outage to the runtime's default classifier, and is named so in dead letters", () => {
    const error = new DownstreamOutageError('connect ECONNREFUSED 127.0.0.1:5432');
    expect(isOutageError(error)).toBe(true);
    expect(describeError(error).type).toBe('DownstreamOutageError');
  });
});
