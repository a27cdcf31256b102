import type { TestProject } from 'vitest/node';
import { startLocalServices, type LocalEnvironment } from '../../local/services.js';
import { ensureKcat } from './kcat.js';

declare module 'vitest' {
  export interface ProvidedContext {
    localEnv: LocalEnvironment;
  }
}

// Once per run: the embedded broker (3 brokers) and SQS/S3, or KAFKA_BROKERS /
// AWS_ENDPOINT_URL when set. Torn down (by PID) after the last test.
export default async function setup(project: TestProject) {
  ensureKcat();
  const services = await startLocalServices({ brokers: 3, partitions: 3 });
  project.provide('localEnv', services.env);
  return () => services.stop();
}
