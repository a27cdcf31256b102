import { fileURLToPath } from 'node:url';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createKafka } from '../../functions/replay/kafka-connection';
import { EventSourceMappingEmulator } from '../../local/esm/emulator';
import { recordingDestination } from '../support/on-failure';
import { RUNTIME_CHANNELS, SandboxPool } from '../../local/esm/sandbox';
import { RECORD_FINISHED_CHANNEL } from '../../local/ground-truth';
import { produce, uniqueTopic } from '../support/kafka';
import { freshQueue, queueDepth, sqsClient } from '../support/sqs';

const env = inject('localEnv');
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
  vi.unstubAllEnvs();
});

// Lambda guide, "Lambda execution environment" (docs.aws.amazon.com/lambda/latest/dg/
// lambda-runtime-environment.html), "Failures during the invoke phase": a function that times
// out during the Invoke phase has its execution environment reset; the next invocation starts
// a new one. The emulator runs the function in a worker thread per concurrent invocation and
// terminates it at the timeout, so a timed-out invocation's work cannot land after it was
// declared failed.
describe('handler sandboxes', () => {
  it('a handler that runs past its timeout writes no dead letter and is not counted as processed', async () => {
    const topic = uniqueTopic('e2e-sandbox-late');
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'dlq-sandbox-late');
    cleanup.push(() => queue.remove());
    for (const key of ['AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) vi.stubEnv(key, env[key]);
    vi.stubEnv('DLQ_URL', queue.url);
    vi.stubEnv('TEST_LATE_MS', '2500'); // the function's timeout is 1 s
    await produce(env.KAFKA_BROKERS, topic, [{ value: 'ok', partition: 0 }, { value: 'bad', partition: 1 }]);

    const finished: unknown[] = [];
    const onFinished = (message: unknown) => finished.push(message);
    subscribe(RECORD_FINISHED_CHANNEL, onFinished);
    cleanup.push(async () => unsubscribe(RECORD_FINISHED_CHANNEL, onFinished));
    const sandboxes = new SandboxPool({ module: fileURLToPath(new URL('../support/late-handler.ts', import.meta.url)), channels: [...RUNTIME_CHANNELS, RECORD_FINISHED_CHANNEL] });
    cleanup.push(() => sandboxes.close());
    const { destination, records: failures } = recordingDestination();
    const emulator = new EventSourceMappingEmulator({
      kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }), topic, bootstrapServers: env.KAFKA_BROKERS,
      handler: sandboxes.handler, functionTimeoutMs: 1_000,
      settings: { topics: [topic], batchSize: 10, maxBatchingWindowSeconds: 1, retryAttempts: 0 },
      onFailure: destination,
    });
    cleanup.push(() => emulator.stop());
    await emulator.start();

    // Every invocation outlasts its timeout, so every sandbox started must have been stopped:
    // once its thread has exited, nothing it had scheduled (the late write) can ever run.
    const deadline = Date.now() + 30_000;
    while ((emulator.stats.discarded < 2 || sandboxes.alive > 0) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sandboxes.alive).toBe(0);

    expect(emulator.stats.timeouts).toBeGreaterThan(0);
    expect(emulator.stats.discarded).toBe(2); // both records went to the on-failure destination, as Lambda sends them
    expect(failures.every((f) => f.requestContext.condition === 'RetryAttemptsExhausted')).toBe(true);
    expect(emulator.stats.processed).toBe(0);
    expect(emulator.stats.deadLettered).toBe(0);
    expect(finished).toEqual([]); // the user function's "ok" record never counted as finished
    expect(await queueDepth(sqs, queue.url)).toBe(0); // and the "bad" one wrote no dead letter
    expect(sandboxes.started).toBeGreaterThan(0);
  });
});
