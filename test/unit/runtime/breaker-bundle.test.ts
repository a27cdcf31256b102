// The breaker stays off the happy path: esbuild bundles the lazily imported breaker-trip.ts (and
// src/breaker) into every consumer's one CommonJS file, but it runs, and loads the Lambda client,
// only when an invocation sees an outage. Built with the options the construct gives NodejsFunction.
import { createRequire, registerHooks } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';
import { captureOutput } from '../../support/output.js';
import { bytesOf, exampleConsumer } from '../../support/example-bundle.js';

const BREAKER_SOURCES = /^src\/(breaker\/|runtime\/breaker-trip\.ts|runtime\/outage\.ts)/;
/** What the breaker adds to the example consumer's minified bundle: 8.8 KB measured (2026-12-07), of 75 KB. */
const BREAKER_BYTES_BUDGET = 12_000;

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("the breaker in the example consumer's bundle", () => {
  it('adds little to it', async () => {
    const { inputs } = await exampleConsumer();
    const breakerBytes = bytesOf(inputs, BREAKER_SOURCES);
    expect(breakerBytes).toBeGreaterThan(0);
    expect(breakerBytes).toBeLessThan(BREAKER_BYTES_BUDGET);
  });

  it('loads no Lambda client on the happy path, nor for a bad record; it does once an outage trips the breaker', async () => {
    const { code } = await exampleConsumer();
    const dir = mkdtempSync(path.join(tmpdir(), 'breaker-bundle-'));
    const loaded: string[] = [];
    // The Lambda API down: the breaker logs BreakerOpenFailed, the records are still redelivered.
    const stub = `data:text/javascript,export class LambdaClient { send() { return Promise.reject(new Error('no Lambda API here')); } } export class ListEventSourceMappingsCommand {}`;
    const hooks = registerHooks({
      resolve(specifier, context, nextResolve) {
        if (!specifier.startsWith('@aws-sdk/client-')) return nextResolve(specifier, context);
        loaded.push(specifier);
        return { url: stub, shortCircuit: true };
      },
    });
    try {
      vi.stubEnv('BREAKER_COOL_DOWN_SECONDS', '60');
      captureOutput();
      writeFileSync(path.join(dir, 'consumer.cjs'), code);
      const { handler } = createRequire(path.join(dir, 'x.cjs'))('./consumer.cjs') as {
        handler: (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;
      };
      const order = (id: number, simulate?: string) => ({
        topic: 'orders',
        partition: 0,
        offset: id,
        value: JSON.stringify({ id: `${id}`, simulate }),
      });
      await handler(buildKafkaEvent([order(0), order(1, 'permanent-failure'), order(2)]), lambdaContext(30_000, 'consumer'));
      expect(loaded).toEqual([]);
      // Permanent failures are the records' fault: dead-lettered, nothing of the breaker loaded.
      await handler(
        buildKafkaEvent(Array.from({ length: 20 }, (_, i) => order(i, 'permanent-failure'))),
        lambdaContext(30_000, 'consumer'),
      );
      expect(loaded).toEqual([]);
      // An outage error trips the breaker.
      const failing = [order(0, 'downstream-outage'), order(1)];
      const response = await handler(buildKafkaEvent(failing), lambdaContext(30_000, 'consumer'));
      expect(response.batchItemFailures).toHaveLength(1);
      expect(loaded).toEqual(['@aws-sdk/client-lambda']);
    } finally {
      hooks.deregister();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
