import { describe, expect, it } from 'vitest';
import { ConfigurationError, KafkaConsumersError } from '../../../src/contract/errors.js';
import { DeserializationError, InvalidEventError, NonRetryableError, WholeBatchRetryError } from '../../../src/runtime/errors.js';

// Logs, dead letters (error.type) and the Lambda error response show the name: it must be the class's.
describe('error classes', () => {
  it.each([
    [KafkaConsumersError, 'KafkaConsumersError'],
    [InvalidEventError, 'InvalidEventError'],
    [ConfigurationError, 'ConfigurationError'],
    [NonRetryableError, 'NonRetryableError'],
    [DeserializationError, 'DeserializationError'],
    [WholeBatchRetryError, 'WholeBatchRetryError'],
  ])('%o is named %s', (type, name) => {
    const error = new type('m');
    expect(error.name).toBe(name);
    expect(String(error)).toBe(`${name}: m`);
  });

  it('a DeserializationError is a NonRetryableError', () => {
    expect(new DeserializationError('m')).toBeInstanceOf(NonRetryableError);
  });
});
