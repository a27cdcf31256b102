// The ESM emulator's mutants, judged by the unit tests and the emulator's e2e tests, which run it
// in-process against the embedded broker and SQS/S3 (started once per test-runner process).
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  // The sandbox worker runs in worker threads, where Stryker's switch for the active mutant does
  // not reach (like code in a subprocess): its mutants could never be killed, and it says so with
  // `Stryker disable all` (a `!` pattern here still mutated it).
  mutate: ['local/esm/**/*.ts'],
  // A test that waits for the broker (a group join takes seconds) and hangs under a mutant counts
  // as a timeout (killed) once it runs this long past its unmutated time.
  timeoutMS: 30_000,
  incrementalFile: 'reports/mutation/emulator/incremental.json',
  htmlReporter: { fileName: 'reports/mutation/emulator/index.html' },
  jsonReporter: { fileName: 'reports/mutation/emulator/mutation.json' },
};
