import { describe, expect, it } from 'vitest';
import { ConfigurationError, KafkaConsumersError } from '../../../src/contract/errors.js';
import {
  DeserializationError,
  InvalidEventError,
  MalformedDataError,
  MalformedDeadLetterError,
  NonRetryableError,
  WholeBatchRetryError,
} from '../../../src/runtime/errors.js';

// Logs, dead letters (error.type) and the Lambda error response show the name: it must be the class's.
describe('error classes', () => {
  it.each([
    [KafkaConsumersError, 'KafkaConsumersError'],
    [InvalidEventError, 'InvalidEventError'],
    [ConfigurationError, 'ConfigurationError'],
    [NonRetryableError, 'NonRetryableError'],
    [DeserializationError, 'DeserializationError'],
    [WholeBatchRetryError, 'WholeBatchRetryError'],
    [MalformedDataError, 'MalformedDataError'],
    [MalformedDeadLetterError, 'MalformedDeadLetterError'],
  ])('%o is named %s', (type, name) => {
    // Facts a class takes (WholeBatchRetryError's redeliveries) go with the message; the others ignore them.
    const error = new (type as new (message: string, options: { redeliveries: [] }) => Error)('m', { redeliveries: [] });
    expect(error.name).toBe(name);
    expect(String(error)).toBe(`${name}: m`);
  });

  it('a DeserializationError is a NonRetryableError', () => {
    expect(new DeserializationError('m')).toBeInstanceOf(NonRetryableError);
  });

  it('a DeserializationError user code throws without facts has none, and keeps its cause', () => {
    const cause = new Error('c');
    const error = new DeserializationError('m', { cause });
    expect([Object.hasOwn(error, 'field'), Object.hasOwn(error, 'record'), error.cause]).toEqual([false, false, cause]);
  });
});
