// Property: whatever order offsets complete in, and however the ranges are capped and written
// to the table and read back, the ranges never say an offset is done that was not marked done;
// uncapped, they say every marked offset is.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetRanges } from '../../../../src/runtime/idempotency/offset-ranges.js';
import { propertyRuns } from '../../../support/properties.js';

const offsets = fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 80 });

describe('OffsetRanges (property)', () => {
  it('contains exactly the offsets added, in any order, through the table text', () => {
    fc.assert(
      fc.property(offsets, (added) => {
        const ranges = OffsetRanges.empty();
        for (const o of added) ranges.add(o);
        const read = OffsetRanges.parse(ranges.toString());
        for (let o = 0; o <= 62; o++) {
          expect(ranges.contains(o)).toBe(added.includes(o));
          expect(read.contains(o)).toBe(added.includes(o));
        }
      }),
      propertyRuns(),
    );
  });

  it('capped, keeps at most that many ranges and claims no offset that was not added', () => {
    fc.assert(
      fc.property(offsets, fc.integer({ min: 0, max: 10 }), (added, max) => {
        const ranges = OffsetRanges.empty();
        for (const o of added) ranges.add(o);
        ranges.cap(max);
        expect(ranges.rangeCount).toBeLessThanOrEqual(max);
        const read = OffsetRanges.parse(ranges.toString());
        for (let o = 0; o <= 62; o++) if (read.contains(o)) expect(added).toContain(o);
        // The highest offsets are the ones kept: a redelivery comes from the partition's end.
        if (max > 0 && added.length > 0) expect(read.contains(Math.max(...added))).toBe(true);
      }),
      propertyRuns(),
    );
  });

  it('reads any text that is not its own as empty: nothing skipped on a damaged item', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const read = OffsetRanges.parse(text);
        const written = read.toString();
        // Either nothing, or ranges that write back as the same text.
        if (written !== '') expect(written).toBe(text);
      }),
      propertyRuns(),
    );
  });
});

describe('OffsetRanges', () => {
  it('keeps a contiguous run as one range, and a hole per missing offset', () => {
    const ranges = OffsetRanges.empty();
    for (let o = 100; o < 200; o++) if (o !== 150) ranges.add(o);
    expect(ranges.toString()).toBe('100-149,151-199');
    ranges.add(150);
    expect(ranges.toString()).toBe('100-199');
    expect(ranges.rangeCount).toBe(1);
  });

  it('refuses overlapping, unordered or non-numeric text', () => {
    for (const text of ['5-3', '1-4,3-6', '4,2', '1-2,3', 'a', '1-', '-1', '1,,2']) expect(OffsetRanges.parse(text).toString()).toBe('');
  });
});
