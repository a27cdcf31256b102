// The ESM emulator's mutants, judged by the unit tests and the emulator's e2e tests, which run it
// in-process against the embedded broker and SQS/S3 (started once per test-runner process).
import base from './stryker.config.mjs';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: ['local/esm/**/*.ts'],
  incrementalFile: 'reports/mutation/emulator/incremental.json',
  htmlReporter: { fileName: 'reports/mutation/emulator/index.html' },
  jsonReporter: { fileName: 'reports/mutation/emulator/mutation.json' },
};
