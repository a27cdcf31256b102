import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Five suites, named after what they run against: unit tests (in-process, a folder per source
// layer), CDK template tests, integration tests of the local services and tools, end-to-end tests
// that drive the emulated mapping and the commands the README gives against the embedded broker
// and SQS/S3 over real sockets, and the package as a user installs it.
const LOCAL_SERVICES = ['test/support/global-setup.ts'];
export const unit: TestProjectInlineConfiguration = { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } };
export const cdk: TestProjectInlineConfiguration = {
  // hookTimeout: a test file's templates are linted (cfn-lint) in its afterAll hook.
  test: {
    name: 'cdk',
    include: ['test/cdk/**/*.test.ts'],
    setupFiles: ['test/cdk/scratch-tmpdir.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
};
const onLocalServices = { globalSetup: LOCAL_SERVICES, testTimeout: 120_000, hookTimeout: 300_000, fileParallelism: false };
// After the others (groupOrder): the end-to-end suite's brokers and these, busy at once, would
// starve both on a small machine; the unit, CDK and package suites run beside the end-to-end one.
export const integration: TestProjectInlineConfiguration = {
  test: { name: 'integration', include: ['test/integration/**/*.test.ts'], ...onLocalServices, sequence: { groupOrder: 1 } },
};
export const e2e: TestProjectInlineConfiguration = {
  test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], ...onLocalServices },
};
export const packageTest: TestProjectInlineConfiguration = {
  test: { name: 'package', include: ['test/package/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 300_000 },
};

export default defineConfig({ test: { projects: [unit, cdk, integration, e2e, packageTest] } });
