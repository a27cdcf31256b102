// `npm run test:mutation` runs this (the runtime, the breaker and the replay, judged by the unit tests), then
// stryker.emulator.config.mjs (the ESM emulator, judged by the unit and the emulator's e2e tests).
// Too slow for `npm test` or CI; run it before calling a change to those folders done. One file:
// `npm exec -- stryker run --mutate src/runtime/retry.ts` (Stryker needs the project's Node 24).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // Unit tests only: the emulator's e2e tests reach most of the runtime too (the Kafka connection,
  // the consumer behind the emulator), and running them for each runtime mutant takes hours.
  vitest: { configFile: 'vitest.mutation.config.ts', dir: 'test/unit', related: true },
  checkers: ['typescript'],
  // Type-checks mutants (those that cannot compile are left out of the score) against the mutated
  // folders and their tests only: the whole project, aws-cdk-lib included, is several times slower.
  tsconfigFile: 'tsconfig.mutation.json',
  // src/contract too: describeError and the names the replay and the runtime share were the runtime's.
  mutate: ['src/contract/**/*.ts', 'src/runtime/**/*.ts', 'src/breaker/**/*.ts', 'src/replay/**/*.ts', 'src/kafka/**/*.ts'],
  // Each mutant runs only the tests that reached it in the first (unmutated) run.
  coverageAnalysis: 'perTest',
  // 2 cores, and the e2e tests share one embedded broker per test-runner process.
  concurrency: 1,
  // A mutant that makes a test hang (a retry loop that never ends) counts as a timeout (killed)
  // once the test runs this long past its unmutated time; unit tests take milliseconds.
  timeoutMS: 5_000,
  timeoutFactor: 2,
  // A rerun tests only the mutants whose code or covering tests changed (`--force` tests all).
  incremental: true,
  incrementalFile: 'reports/mutation/runtime/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/runtime/index.html' },
  jsonReporter: { fileName: 'reports/mutation/runtime/mutation.json' },
  ignorePatterns: ['cdk.out', 'bench/.out', 'reports', 'coverage'],
  thresholds: { high: 90, low: 80, break: null },
};
