// Option values every command reads the same way.
import { InvalidArgumentError } from 'commander';

/** A parser for a whole-number option in [from, to]; the error names the range. */
export function wholeNumber(from: number, to = Number.MAX_SAFE_INTEGER) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < from || n > to)
      throw new InvalidArgumentError(
        `a whole number from ${from.toLocaleString('en-US')}${to < Number.MAX_SAFE_INTEGER ? ` to ${to.toLocaleString('en-US')}` : ''}.`,
      );
    return n;
  };
}
