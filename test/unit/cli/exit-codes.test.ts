import { describe, expect, it } from 'vitest';
import { CliError, EXIT, isCliError } from '../../../src/cli/exit-codes.js';

describe('isCliError', () => {
  it("knows a CliError from the local tools' bundle, which carries its own copy of the class", () => {
    class BundledCliError extends Error {
      override name = 'CliError';
      constructor(
        message: string,
        readonly exitCode: number,
      ) {
        super(message);
      }
    }
    expect(isCliError(new CliError('here', EXIT.usage))).toBe(true);
    expect(isCliError(new BundledCliError('bundled', EXIT.usage))).toBe(true);
    expect(isCliError(Object.assign(new Error('plain'), { exitCode: 2 }))).toBe(false);
    expect(isCliError(Object.assign(new Error('no code'), { name: 'CliError' }))).toBe(false);
  });
});
