// Property: whatever order offsets and ranges are added in, and however the set is capped and
// written to the ledger's text and read back, it never claims an offset that was not added;
// uncapped, it holds every added offset, and its size is the count of distinct offsets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetRanges } from '../../../src/runtime/offset-ranges.js';
import { propertyRuns } from '../../support/properties.js';

const TOP = 62;
/** One offset, or a [start, end) range (sometimes empty or reversed, which adds nothing). */
const addition = fc.oneof(fc.integer({ min: 0, max: 60 }), fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 61 })));
const additions = fc.array(addition, { maxLength: 60 });
/** Any text, and text made of the ledger's own characters, which comes close to its form. */
const ledgerLikeText = fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom('0', '1', '2', '9', '-', ','), maxLength: 12 }));

function build(added: ReadonlyArray<number | [number, number]>): { ranges: OffsetRanges; expected: Set<number> } {
  const ranges = new OffsetRanges();
  const expected = new Set<number>();
  for (const a of added) {
    if (typeof a === 'number') {
      expect(ranges.add(a)).toBe(!expected.has(a));
      expected.add(a);
    } else {
      const [start, end] = a;
      const before = expected.size;
      for (let o = start; o < end; o++) expected.add(o);
      expect(ranges.addRange(start, end)).toBe(expected.size - before);
    }
  }
  return { ranges, expected };
}

describe('OffsetRanges (property)', () => {
  it('holds exactly the offsets added, in any order, through the ledger text, and counts each once', () => {
    fc.assert(
      fc.property(additions, (added) => {
        const { ranges, expected } = build(added);
        const read = OffsetRanges.parse(ranges.toString());
        for (let o = 0; o <= TOP; o++) {
          expect(ranges.has(o)).toBe(expected.has(o));
          expect(read.has(o)).toBe(expected.has(o));
        }
        expect(ranges.size).toBe(expected.size);
        expect(read.size).toBe(expected.size);
        expect(read.toString()).toBe(ranges.toString());
        // Sorted, disjoint and never touching: the fewest ranges for these offsets.
        const flat = [...ranges.ranges()].flat();
        for (let i = 1; i < flat.length; i++) expect(flat[i]!).toBeGreaterThan(flat[i - 1]!);
        expect(ranges.rangeCount).toBe(flat.length / 2);
      }),
      propertyRuns(),
    );
  });

  it('capped, keeps at most that many ranges, the highest, and claims no offset that was not added', () => {
    fc.assert(
      fc.property(additions, fc.integer({ min: 0, max: 10 }), (added, max) => {
        const { ranges, expected } = build(added);
        ranges.cap(max);
        expect(ranges.rangeCount).toBeLessThanOrEqual(max);
        const read = OffsetRanges.parse(ranges.toString());
        let held = 0;
        for (let o = 0; o <= TOP; o++) {
          if (ranges.has(o)) held++;
          if (read.has(o)) expect(expected.has(o)).toBe(true);
        }
        expect(ranges.size).toBe(held);
        // The highest offsets are the ones kept: a redelivery comes from the partition's end.
        if (max > 0 && expected.size > 0) expect(read.has(Math.max(...expected))).toBe(true);
      }),
      propertyRuns(),
    );
  });

  it('reads any text that is not its own as empty: nothing skipped on a damaged item', () => {
    fc.assert(
      fc.property(ledgerLikeText, (text) => {
        const read = OffsetRanges.parse(text);
        const written = read.toString();
        // Either nothing, or ranges that write back as the same text.
        if (written !== '') expect(written).toBe(text);
        else expect(read.size).toBe(0);
      }),
      propertyRuns(),
    );
  });
});

describe('OffsetRanges', () => {
  it('keeps a contiguous run as one range, and a hole per missing offset', () => {
    const ranges = new OffsetRanges();
    for (let o = 100; o < 200; o++) if (o !== 150) ranges.add(o);
    expect(ranges.toString()).toBe('100-149,151-199');
    ranges.add(150);
    expect(ranges.toString()).toBe('100-199');
    expect(ranges.rangeCount).toBe(1);
  });

  it('counts each offset once, in any order, and merges what touches', () => {
    const set = new OffsetRanges();
    for (const offset of [5, 3, 4, 9, 3, 10, 0]) set.add(offset);
    expect(set.size).toBe(6);
    expect([...set.ranges()]).toEqual([
      [0, 1],
      [3, 6],
      [9, 11],
    ]);
    expect(set.toString()).toBe('0,3-5,9-10');
    expect(set.add(4)).toBe(false);
    expect(set.addRange(1, 9)).toBe(5); // 1, 2, 6, 7 and 8 were missing
    expect([...set.ranges()]).toEqual([[0, 11]]);
    expect(set.has(10)).toBe(true);
    expect(set.has(11)).toBe(false);
  });

  it('keeps a million offsets in order as one range', () => {
    const set = new OffsetRanges();
    for (let offset = 0; offset < 1_000_000; offset++) set.add(offset);
    expect(set.size).toBe(1_000_000);
    expect([...set.ranges()]).toEqual([[0, 1_000_000]]);
  });

  it('refuses overlapping, touching, unordered, non-numeric or non-canonical text', () => {
    for (const text of ['5-3', '1-4,3-6', '4,2', '1-2,3', 'a', '1-', '-1', '1,,2', '9007199254740993', '01', '5-5', '1-02']) {
      expect(OffsetRanges.parse(text).toString()).toBe('');
    }
  });
});
