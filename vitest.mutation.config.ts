import { defineConfig } from 'vitest/config';
import { e2e, unit } from './vitest.config.js';

// What `npm run test:mutation` (StrykerJS) runs for each mutant. Stryker switches a mutant on
// inside the test process, so tests that run our code in a subprocess (`npm run invoke`,
// `npm start`, `npm run services`) can never kill one and are left out; the emulator's e2e tests
// run it in-process against the embedded broker and SQS/S3 (the local services' global setup).
export default defineConfig({
  test: {
    projects: [
      unit,
      {
        test: {
          ...e2e.test,
          include: [
            'test/e2e/emulator.test.ts',
            'test/e2e/on-failure-destinations.test.ts',
            'test/e2e/emulator-broker-outage.test.ts',
            'test/e2e/sandbox.test.ts',
            'test/e2e/kafka-fidelity.test.ts',
          ],
        },
      },
    ],
  },
});
