// park-key stays off the other modes' path: failureMode is a string (FAILURE_MODE), so its code is
// in every consumer's one CommonJS bundle (esbuild inlines the lazy import()), but it is loaded,
// and with it the DynamoDB client, only by a handler in park-key mode. Built with the options the
// construct gives NodejsFunction; the budget keeps what the other modes carry small.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';
import { bundleHandler, bytesFrom, withStubbedClients } from '../../../support/consumer-bundle.js';
import { buildKafkaEvent } from '../../../support/kafka-event.js';
import { captureOutput } from '../../../support/output.js';

const PARKING_SOURCES = /^src\/runtime\/parking\//;
/** What park-key adds to the example consumer's minified bundle: 8.4 KB measured (2026-12-07), of 86 KB. */
const PARKING_BYTES_BUDGET = 11_000;

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("park-key in the example consumer's bundle", () => {
  it('adds little to it', async () => {
    const bytes = bytesFrom(await bundleHandler(), PARKING_SOURCES);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(PARKING_BYTES_BUDGET);
  });

  it('loads no DynamoDB client in dead-letter mode, even for a failing keyed record; in park-key mode it loads it at the cold start', async () => {
    const { code } = await bundleHandler();
    // DynamoDB down: the parked keys cannot be read, the partition is redelivered.
    const stub = `export class DynamoDBClient { send() { return Promise.reject(new Error('no DynamoDB here')); } } export class BatchGetItemCommand {}`;
    await withStubbedClients(code, stub, async (load, loaded) => {
      captureOutput();
      const order = (id: number, simulate?: string) => ({
        topic: 'orders',
        partition: 0,
        offset: id,
        key: `order-${id % 2}`,
        value: JSON.stringify({ id: `${id}`, simulate }),
      });
      const event = buildKafkaEvent([order(0), order(1, 'permanent-failure'), order(2)]);
      await load()(event, lambdaContext(30_000, 'consumer'));
      expect(loaded).toEqual([]);
      // A fresh copy of the bundle (its module state new), in park-key mode.
      vi.stubEnv('FAILURE_MODE', 'park-key');
      vi.stubEnv('PARKED_KEYS_TABLE', 'parked');
      vi.stubEnv('DLQ_URL', 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq');
      vi.stubEnv('DLQ_BUCKET', 'dead-letters');
      const parkKey = load();
      // Loaded by the cold start, before any invocation: every invocation reads its keys' parked state first.
      await new Promise((resolve) => setImmediate(resolve));
      expect(loaded).toEqual(['@aws-sdk/client-dynamodb']);
      const response = await parkKey(event, lambdaContext(30_000, 'consumer'));
      expect(loaded).toEqual(['@aws-sdk/client-dynamodb']);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'orders-0', offset: 0 } }]);
    });
  });
});
