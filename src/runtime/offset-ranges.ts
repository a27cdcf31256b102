/**
 * A set of Kafka offsets kept as sorted, disjoint [start, end) ranges: one partition's offsets
 * arrive mostly in order, so a million of them usually take one range, not a million entries.
 * Memory grows with the gaps between offsets, not with their number.
 *
 * The idempotency ledger stores it as text with inclusive ranges, `"0-99,101-150"`, and caps it:
 * past `maxRanges` the lowest ranges are dropped, and their offsets become unknown again (run once
 * more if ever redelivered), never done by mistake. The local tools count with it.
 * Imports nothing: only loaded when the ledger is on, and by the local tools.
 */
export class OffsetRanges {
  /** [start0, end0, start1, end1, …]: start ≤ offset < end, ascending, never touching. */
  readonly #bounds: number[] = [];
  #size = 0;

  /**
   * Reads the ledger's text. Text that is not exactly what `toString` writes (ascending, disjoint
   * ranges; no leading zeros, no "5-5") reads as empty: every offset unknown, so records run again
   * rather than being skipped wrongly.
   */
  static parse(text: string | undefined): OffsetRanges {
    const read = new OffsetRanges();
    if (!text) return read;
    for (const part of text.split(',')) {
      const match = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (!match) return new OffsetRanges();
      const start = Number(match[1]);
      const last = match[2] === undefined ? start : Number(match[2]);
      const previousEnd = read.#bounds.at(-1);
      if (!Number.isSafeInteger(last) || last < start || (previousEnd !== undefined && start <= previousEnd)) return new OffsetRanges();
      read.#bounds.push(start, last + 1);
      read.#size += last + 1 - start;
    }
    return read.toString() === text ? read : new OffsetRanges();
  }

  /** How many offsets the set holds. */
  get size(): number {
    return this.#size;
  }

  get rangeCount(): number {
    return this.#bounds.length / 2;
  }

  has(offset: number): boolean {
    const i = this.#rangeAtOrBefore(offset);
    return i >= 0 && offset < this.#bounds[2 * i + 1]!;
  }

  /** Adds one offset; false when it was already there. Constant time for the offset right after the last range. */
  add(offset: number): boolean {
    const b = this.#bounds;
    const lastEnd = b.length - 1;
    if (lastEnd > 0 && b[lastEnd] === offset) {
      b[lastEnd] = offset + 1;
      this.#size++;
      return true;
    }
    return this.addRange(offset, offset + 1) > 0;
  }

  /** Adds [start, end); answers how many of those offsets were new. */
  addRange(start: number, end: number): number {
    if (end <= start) return 0;
    const b = this.#bounds;
    // The ranges that overlap or touch [start, end) are merged into one.
    let first = this.#rangeAtOrBefore(start);
    if (first < 0 || b[2 * first + 1]! < start) first++;
    let last = first;
    let covered = 0;
    let mergedStart = start;
    let mergedEnd = end;
    while (2 * last < b.length && b[2 * last]! <= end) {
      const rangeStart = b[2 * last]!;
      const rangeEnd = b[2 * last + 1]!;
      covered += Math.min(rangeEnd, end) - Math.max(rangeStart, start); // never negative: each starts ≤ end, ends ≥ start
      mergedStart = Math.min(mergedStart, rangeStart);
      mergedEnd = Math.max(mergedEnd, rangeEnd);
      last++;
    }
    b.splice(2 * first, 2 * (last - first), mergedStart, mergedEnd);
    const added = end - start - covered;
    this.#size += added;
    return added;
  }

  /** Drops the lowest ranges beyond `maxRanges`: their offsets become unknown, none becomes known. */
  cap(maxRanges: number): void {
    const excess = this.rangeCount - maxRanges;
    if (excess <= 0) return;
    const dropped = this.#bounds.splice(0, 2 * excess);
    for (let i = 0; i < dropped.length; i += 2) this.#size -= dropped[i + 1]! - dropped[i]!;
  }

  /** The ranges, in order, as [start, end). */
  *ranges(): Generator<readonly [start: number, end: number]> {
    const b = this.#bounds;
    for (let i = 0; i < b.length; i += 2) yield [b[i]!, b[i + 1]!];
  }

  /** The ledger's text: inclusive ranges, a lone offset written alone (`"0-99,101"`). */
  toString(): string {
    const parts: string[] = [];
    for (const [start, end] of this.ranges()) parts.push(end - start === 1 ? `${start}` : `${start}-${end - 1}`);
    return parts.join(',');
  }

  /** Index of the last range starting at or before `offset`, or -1. */
  #rangeAtOrBefore(offset: number): number {
    const b = this.#bounds;
    let low = 0;
    let high = b.length / 2 - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (b[2 * mid]! <= offset) low = mid + 1;
      else high = mid - 1;
    }
    return high;
  }
}
