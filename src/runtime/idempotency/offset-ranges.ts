/**
 * The offsets of one topic-partition whose work is done, as sorted, disjoint, inclusive ranges:
 * one range while records complete in order, one more per hole (a dead-lettered record, a
 * partition redelivered from the middle). Capped: past `maxRanges` the lowest ranges are
 * dropped, and their offsets become unknown again (run once more if ever redelivered), never
 * done by mistake. Stored in the table as text, `"0-99,101-150"`.
 */
export class OffsetRanges {
  /** [start0, end0, start1, end1, …], ascending, gaps of at least one offset between ranges. */
  readonly #bounds: number[];

  private constructor(bounds: number[]) {
    this.#bounds = bounds;
  }

  static empty(): OffsetRanges {
    return new OffsetRanges([]);
  }

  /**
   * Reads the table's text. Text that is not a list of ascending, disjoint ranges reads as
   * empty: every offset unknown, so records run again rather than being skipped wrongly.
   */
  static parse(text: string | undefined): OffsetRanges {
    if (!text) return OffsetRanges.empty();
    const bounds: number[] = [];
    for (const part of text.split(',')) {
      const match = /^(\d+)(?:-(\d+))?$/.exec(part);
      if (!match) return OffsetRanges.empty();
      const start = Number(match[1]);
      const end = match[2] === undefined ? start : Number(match[2]);
      const previousEnd = bounds.at(-1);
      if (!Number.isSafeInteger(end) || end < start || (previousEnd !== undefined && start <= previousEnd + 1)) return OffsetRanges.empty();
      bounds.push(start, end);
    }
    return new OffsetRanges(bounds);
  }

  get rangeCount(): number {
    return this.#bounds.length / 2;
  }

  contains(offset: number): boolean {
    const b = this.#bounds;
    // Binary search for the last range starting at or before `offset`.
    let low = 0;
    let high = b.length / 2 - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (b[2 * mid]! <= offset) low = mid + 1;
      else high = mid - 1;
    }
    return high >= 0 && offset <= b[2 * high + 1]!;
  }

  /** Adds one offset in place. Constant time in the common case: the next offset of the last range. */
  add(offset: number): void {
    const b = this.#bounds;
    const last = b.length - 1;
    if (last > 0 && b[last] === offset - 1) {
      b[last] = offset;
      return;
    }
    if (last < 0 || b[last]! < offset - 1) {
      b.push(offset, offset);
      return;
    }
    this.#insert(offset);
  }

  // Anywhere else: find the ranges either side, extend or join them, or open a new one.
  #insert(offset: number): void {
    const b = this.#bounds;
    let i = 0;
    while (i < b.length && b[i + 1]! < offset - 1) i += 2; // first range that ends at offset-1 or later
    if (i === b.length) {
      b.push(offset, offset);
      return;
    }
    if (b[i]! <= offset && offset <= b[i + 1]!) return; // already done
    if (b[i + 1] === offset - 1) {
      b[i + 1] = offset;
      if (b[i + 2] === offset + 1) b.splice(i + 1, 2); // joins the next range
      return;
    }
    if (b[i] === offset + 1) {
      b[i] = offset;
      return;
    }
    b.splice(i, 0, offset, offset);
  }

  /** Drops the lowest ranges beyond `maxRanges`: their offsets become unknown, none becomes done. */
  cap(maxRanges: number): void {
    const excess = this.#bounds.length / 2 - maxRanges;
    if (excess > 0) this.#bounds.splice(0, 2 * excess);
  }

  toString(): string {
    const b = this.#bounds;
    const parts: string[] = [];
    for (let i = 0; i < b.length; i += 2) parts.push(b[i] === b[i + 1] ? `${b[i]}` : `${b[i]}-${b[i + 1]}`);
    return parts.join(',');
  }
}
