import { describe, expect, it } from 'vitest';
import { loadLambda, loadS3, loadSqs } from '../../../src/runtime/aws-clients.js';
import { fresh } from '../../support/fresh.js';
import type * as AwsClientsModule from '../../../src/runtime/aws-clients.js';

// Retries belong to the runtime's one RetryPolicy, so the SDK clients make one attempt a call;
// SQS calls go to the configured endpoint, not the host named in the queue URL.
describe('AWS clients', () => {
  it('builds each client once, on first use', async () => {
    expect(loadSqs()).toBe(loadSqs());
    expect(loadS3()).toBe(loadS3());
    expect(loadLambda()).toBe(loadLambda());
    expect((await loadSqs()).client).toBe((await loadSqs()).client);
  });

  it('makes one attempt per call, and sends SQS calls to the configured endpoint', async () => {
    const clients = await fresh<typeof AwsClientsModule>('../../src/runtime/aws-clients.js'); // built anew
    const { client: sqs } = await clients.loadSqs();
    const { client: s3 } = await clients.loadS3();
    expect(await sqs.config.maxAttempts()).toBe(1);
    expect(await s3.config.maxAttempts()).toBe(1);
    expect(await (await clients.loadLambda()).client.config.maxAttempts()).toBe(1);
    expect(sqs.config.useQueueUrlAsEndpoint).toBe(false);
  });
});
