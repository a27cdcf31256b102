import { describe, expect, it } from 'vitest';
import { OffsetRanges } from '../../../local/offset-ranges.js';

describe('OffsetRanges', () => {
  it('counts each offset once, in any order, and merges what touches', () => {
    const set = new OffsetRanges();
    for (const offset of [5, 3, 4, 9, 3, 10, 0]) set.add(offset);
    expect(set.size).toBe(6);
    expect([...set.ranges()]).toEqual([
      [0, 1],
      [3, 6],
      [9, 11],
    ]);
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

  it('extends only the last range with the offset right after it, and never counts an offset twice', () => {
    const set = new OffsetRanges();
    for (const offset of [0, 1, 5, 6, 2, 7, 6]) set.add(offset);
    expect([...set.ranges()]).toEqual([
      [0, 3],
      [5, 8],
    ]);
    expect(set.size).toBe(6);
    expect(set.add(3)).toBe(true); // after [0, 3), which is not the last range
    expect([...set.ranges()]).toEqual([
      [0, 4],
      [5, 8],
    ]);
  });
});
