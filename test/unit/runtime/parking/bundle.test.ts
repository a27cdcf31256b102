// park-key stays off the other modes' path: failureMode is a string (FAILURE_MODE), so its code is
// in every consumer's one CommonJS bundle (esbuild inlines the lazy import()), but it is loaded,
// and with it the DynamoDB client, only by a handler in park-key mode. Built with the options the
// construct gives NodejsFunction; the budget keeps what the other modes carry small.
import { createRequire, registerHooks } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bundlingOptions } from '../../../../src/constructs/bundling.js';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';
import { buildKafkaEvent } from '../../../support/kafka-event.js';
import { captureOutput } from '../../../support/output.js';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
const PARKING_SOURCES = /^src\/runtime\/parking\//;
/** What park-key adds to the example consumer's minified bundle: 8.4 KB measured (2026-12-07), of 86 KB. */
const PARKING_BYTES_BUDGET = 11_000;

async function exampleConsumer() {
  const options = bundlingOptions();
  const { metafile, outputFiles } = await build({
    entryPoints: ['app/consumer/index.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: options.minify!,
    target: options.target!,
    external: options.externalModules!,
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: outputFiles[0]!.text, inputs: Object.values(metafile.outputs)[0]!.inputs };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("park-key in the example consumer's bundle", () => {
  it('adds little to it', async () => {
    const { inputs } = await exampleConsumer();
    const bytes = Object.entries(inputs)
      .filter(([file]) => PARKING_SOURCES.test(file))
      .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(PARKING_BYTES_BUDGET);
  });

  it('loads no DynamoDB client in dead-letter mode, even for a failing keyed record; in park-key mode it loads it at the cold start', async () => {
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
      const parkKey = load('park-key.cjs');
      // Loaded by the cold start, before any invocation: every invocation reads its keys' parked state first.
      await new Promise((resolve) => setImmediate(resolve));
      expect(loaded).toEqual(['@aws-sdk/client-dynamodb']);
      const response = await parkKey.handler(event, lambdaContext(30_000, 'consumer'));
      expect(loaded).toEqual(['@aws-sdk/client-dynamodb']);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'orders-0', offset: 0 } }]);
    } finally {
      hooks.deregister();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
