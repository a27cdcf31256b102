// park-key stays off the other modes' path: failureMode is a string (FAILURE_MODE), so its code is
// in every consumer's one CommonJS bundle (esbuild inlines the lazy import()), but it is loaded,
// and with it the DynamoDB client, only by a handler in park-key mode. Built with the options the
// construct gives NodejsFunction; the budget keeps what the other modes carry small.
import { createRequire, registerHooks } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';
import { buildKafkaEvent } from '../../../support/kafka-event.js';
import { captureOutput } from '../../../support/output.js';
import { bytesOf, exampleConsumer } from '../../../support/example-bundle.js';

const PARKING_SOURCES = /^src\/runtime\/parking\//;
/** What park-key adds to the example consumer's minified bundle: 8.4 KB measured (2026-12-07), of 86 KB. */
const PARKING_BYTES_BUDGET = 11_000;

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("park-key in the example consumer's bundle", () => {
  it('adds little to it', async () => {
    const { inputs } = await exampleConsumer();
    const bytes = bytesOf(inputs, PARKING_SOURCES);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(PARKING_BYTES_BUDGET);
  });

  it('loads no DynamoDB client in dead-letter mode, even for a failing keyed record; it does in park-key mode', async () => {
    const { code } = await exampleConsumer();
    const dir = mkdtempSync(path.join(tmpdir(), 'parking-bundle-'));
    const loaded: string[] = [];
    // DynamoDB down: the parked keys cannot be read, the partition is redelivered.
    const stub = `data:text/javascript,export class DynamoDBClient { send() { return Promise.reject(new Error('no DynamoDB here')); } } export class BatchGetItemCommand {}`;
    const hooks = registerHooks({
      resolve(specifier, context, nextResolve) {
        if (!specifier.startsWith('@aws-sdk/client-')) return nextResolve(specifier, context);
        loaded.push(specifier);
        return { url: stub, shortCircuit: true };
      },
    });
    try {
      captureOutput();
      writeFileSync(path.join(dir, 'consumer.cjs'), code);
      const load = (name: string) =>
        createRequire(path.join(dir, 'x.cjs'))(`./${name}`) as {
          handler: (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;
        };
      const order = (id: number, simulate?: string) => ({
        topic: 'orders',
        partition: 0,
        offset: id,
        key: `order-${id % 2}`,
        value: JSON.stringify({ id: `${id}`, simulate }),
      });
      const event = buildKafkaEvent([order(0), order(1, 'permanent-failure'), order(2)]);
      await load('consumer.cjs').handler(event, lambdaContext(30_000, 'consumer'));
      expect(loaded).toEqual([]);
      // A fresh copy of the bundle (its module state new), in park-key mode.
      writeFileSync(path.join(dir, 'park-key.cjs'), code);
      vi.stubEnv('FAILURE_MODE', 'park-key');
      vi.stubEnv('PARKED_KEYS_TABLE', 'parked');
      vi.stubEnv('DLQ_URL', 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq');
      vi.stubEnv('DLQ_BUCKET', 'dead-letters');
      const response = await load('park-key.cjs').handler(event, lambdaContext(30_000, 'consumer'));
      expect(loaded).toEqual(['@aws-sdk/client-dynamodb']);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'orders-0', offset: 0 } }]);
    } finally {
      hooks.deregister();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
