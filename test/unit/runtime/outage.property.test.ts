// Property: the default outage classifier answers a boolean for anything user code can throw,
// hostile values included, and never throws (a throw would fail the whole invocation).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isOutageError } from '../../../src/runtime/outage.js';
import { propertyRuns, thrownValue } from '../../support/properties.js';

const errorLike = fc
  .record(
    {
      code: fc.anything(),
      name: fc.anything(),
      status: fc.anything(),
      statusCode: fc.anything(),
      $metadata: fc.anything(),
      response: fc.anything(),
      cause: fc.anything(),
      message: fc.anything(),
    },
    { requiredKeys: [] },
  )
  .map((fields) => Object.assign(new Error('x'), fields));

describe('isOutageError (property)', () => {
  it('never throws and always answers a boolean', () => {
    fc.assert(
      fc.property(fc.oneof(thrownValue, errorLike), (error) => {
        expect(typeof isOutageError(error)).toBe('boolean');
      }),
      propertyRuns(),
    );
  });
});
