// `npm run test:mutation`: StrykerJS over the runtime, the replay and the ESM emulator. Too slow
// for `npm test` or CI; run it before calling a change to those folders done. Narrow it with
// `npm run test:mutation -- --mutate 'functions/runtime/**/*.ts'`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  checkers: ['typescript'],
  // Type-checks mutants (those that cannot compile are left out of the score) against the mutated
  // folders and their tests only: the whole project, aws-cdk-lib included, is several times slower.
  tsconfigFile: 'tsconfig.mutation.json',
  mutate: ['functions/runtime/**/*.ts', 'functions/replay/**/*.ts', 'local/esm/**/*.ts'],
  // Each mutant runs only the tests that reached it in the first (unmutated) run.
  coverageAnalysis: 'perTest',
  // 2 cores, and the e2e tests share one embedded broker per test-runner process.
  concurrency: 1,
  // An e2e test waits for the broker (group joins take seconds): a mutant that hangs it is a timeout,
  // not a survivor, once it runs this long past the unmutated time.
  timeoutMS: 30_000,
  timeoutFactor: 2,
  // Reruns test again only the mutants whose code or covering tests changed (`--force` tests all).
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['cdk.out', 'bench/.out', 'reports', 'coverage'],
  thresholds: { high: 90, low: 80, break: null },
};
