import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Three suites: fast unit tests, CDK template tests, and integration/end-to-end
// tests that talk to the embedded broker and SQS/S3 over real sockets.
export const unit: TestProjectInlineConfiguration = { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } };
export const cdk: TestProjectInlineConfiguration = { test: { name: 'cdk', include: ['test/cdk/**/*.test.ts'], testTimeout: 120_000 } };
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

export default defineConfig({ test: { projects: [unit, cdk, integration] } });
