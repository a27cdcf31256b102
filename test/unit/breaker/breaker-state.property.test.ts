// Property: every state the breaker can be in survives the trip through its tag value, which
// only ever holds characters Lambda allows in tag values; and any text at all decodes without throwing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBreakerState, encodeBreakerState, type BreakerState } from '../../../src/breaker/breaker-state.js';
import { anyText, propertyRuns } from '../../support/properties.js';

const epochMs = fc.integer({ min: 0, max: 8_640_000_000_000 });
const state: fc.Arbitrary<BreakerState> = fc.oneof(
  fc.record({ position: fc.constant('open' as const), opens: fc.nat(1000), since: epochMs, until: epochMs }),
  fc.record({
    position: fc.constantFrom('closed' as const, 'half-open' as const, 'forced-open' as const),
    opens: fc.nat(1000),
    since: epochMs,
  }),
);
// Tag values (https://docs.aws.amazon.com/tag-editor/latest/userguide/reference.html; tags on mappings:
// https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html): ≤ 256 characters, letters, digits, spaces, _ . : / = + - @.
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

describe('breaker tag (property)', () => {
  it('decode(encode(state)) is the state, and the value is a valid tag value', () => {
    fc.assert(
      fc.property(state, (s) => {
        const value = encodeBreakerState(s);
        expect(value).toMatch(TAG_VALUE);
        expect(decodeBreakerState(value)).toEqual({ state: s });
      }),
      propertyRuns(),
    );
  });

  it('never throws on any value, and what it reads it writes back the same', () => {
    const tagLike = fc.oneof(
      anyText(80),
      fc.anything(),
      state.map(encodeBreakerState).map((v) => v.replace(/\d/, '')),
    );
    fc.assert(
      fc.property(tagLike, (value) => {
        const decoded = decodeBreakerState(value);
        if (decoded.unreadable === undefined && value !== undefined && value !== null)
          expect(decodeBreakerState(encodeBreakerState(decoded.state)).state).toEqual(decoded.state);
      }),
      propertyRuns(),
    );
  });
});
