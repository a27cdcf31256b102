import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Four suites: fast unit tests, CDK template tests, integration/end-to-end tests that talk
// to the embedded broker and SQS/S3 over real sockets, and the package as a user installs it.
export const unit: TestProjectInlineConfiguration = { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } };
export const cdk: TestProjectInlineConfiguration = {
  // hookTimeout: a test file's templates are linted (cfn-lint) in its afterAll hook.
  test: { name: 'cdk', include: ['test/cdk/**/*.test.ts'], setupFiles: ['test/cdk/scratch-tmpdir.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
};
export const integration: TestProjectInlineConfiguration = {
  test: {
    name: 'integration',
    include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    globalSetup: ['test/integration/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
};

export const packageTest: TestProjectInlineConfiguration = { test: { name: 'package', include: ['test/package/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 300_000 } };

export default defineConfig({ test: { projects: [unit, cdk, integration, packageTest] } });
