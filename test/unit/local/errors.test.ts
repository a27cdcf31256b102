import { describe, expect, it } from 'vitest';
import { EmulatorError, InvocationTimeoutError } from '../../../local/errors.js';
import { KafkaConsumersError } from '../../../src/contract/errors.js';
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
});
