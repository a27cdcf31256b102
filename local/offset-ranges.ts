/**
 * A set of offsets kept as sorted, disjoint [start, end) ranges: one partition's offsets
 * arrive mostly in order, so a million of them usually take one range, not a million entries.
 * Memory grows with the gaps between offsets, not with their number.
 */
export class OffsetRanges {
  /** Flat pairs: starts[i] ≤ offset < ends[i], sorted, never touching. */
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];
  #size = 0;

  /** How many offsets the set holds. */
  get size(): number {
    return this.#size;
  }

  has(offset: number): boolean {
    const i = this.#rangeAtOrBefore(offset);
    return i >= 0 && offset < this.#ends[i]!;
  }

  /** Adds one offset; false when it was already there. */
  add(offset: number): boolean {
    // The common case, offsets in order: the one after the last range extends it.
    const last = this.#ends.length - 1;
    if (this.#ends[last] === offset) {
      this.#ends[last]++;
      this.#size++;
      return true;
    }
    return this.addRange(offset, offset + 1) > 0;
  }

  /** Adds [start, end); answers how many of those offsets were new. */
  addRange(start: number, end: number): number {
    if (end <= start) return 0;
    const starts = this.#starts;
    const ends = this.#ends;
    // The ranges that overlap or touch [start, end) are merged into one.
    let first = this.#rangeAtOrBefore(start);
    if (first < 0 || ends[first]! < start) first++;
    let last = first;
    let covered = 0;
    let mergedStart = start;
    let mergedEnd = end;
    while (last < starts.length && starts[last]! <= end) {
      const overlap = Math.min(ends[last]!, end) - Math.max(starts[last]!, start);
      if (overlap > 0) covered += overlap;
      mergedStart = Math.min(mergedStart, starts[last]!);
      mergedEnd = Math.max(mergedEnd, ends[last]!);
      last++;
    }
    starts.splice(first, last - first, mergedStart);
    ends.splice(first, last - first, mergedEnd);
    const added = end - start - covered;
    this.#size += added;
    return added;
  }

  /** The ranges, in order. */
  *ranges(): Generator<readonly [start: number, end: number]> {
    for (let i = 0; i < this.#starts.length; i++) yield [this.#starts[i]!, this.#ends[i]!];
  }

  /** Index of the last range starting at or before `offset`, or -1. */
  #rangeAtOrBefore(offset: number): number {
    let lo = 0;
    let hi = this.#starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.#starts[mid]! <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
