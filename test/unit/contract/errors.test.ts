// Every error the library defines is a KafkaConsumersError, so callers can catch them as a
// family, and each keeps what it wraps in `cause`.
import { describe, expect, it } from 'vitest';
import * as runtime from '../../../src/runtime/index.js';
import { ReplayRequestError } from '../../../src/replay/request.js';
import { MappingSettingsError } from '../../../src/mapping/mapping-settings.js';
import { FilterPatternError } from '../../../src/mapping/event-filter.js';

const runtimeErrors = Object.entries(runtime).filter(([name]) => name.endsWith('Error') && name !== 'KafkaConsumersError');

describe('KafkaConsumersError', () => {
  it.each([...runtimeErrors, ['ReplayRequestError', ReplayRequestError], ['MappingSettingsError', MappingSettingsError], ['FilterPatternError', FilterPatternError]])('is the base of %s, which keeps its name and cause', (name, ErrorClass) => {
    const cause = new Error('underlying');
    const error = new (ErrorClass as new (message: string, options?: ErrorOptions) => Error)('what went wrong', { cause });
    expect(error).toBeInstanceOf(runtime.KafkaConsumersError);
    expect(error).toMatchObject({ name, message: 'what went wrong', cause });
  });

  it('covers every error class the runtime exports', () => {
    expect(runtimeErrors.map(([name]) => name).sort()).toEqual([
      'ConfigurationError', 'DeserializationError', 'InvalidEventError', 'MalformedDeadLetterError', 'NonRetryableError', 'WholeBatchRetryError',
    ]);
  });
});
