import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { EventSourceMappingEmulator } from '../../local/esm/emulator.js';
import { recordingDestination } from '../support/on-failure.js';
import { RUNTIME_CHANNELS, SandboxPool, type SandboxOptions } from '../../local/esm/sandbox.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { SANDBOX_TEST_CHANNEL } from '../support/sandbox-functions.js';
import { RECORD_FINISHED_CHANNEL } from '../../local/ground-truth.js';
import { produce, uniqueTopic } from '../support/kafka.js';
import { freshQueue, queueDepth, sqsClient } from '../support/sqs.js';

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
    await produce(env.KAFKA_BROKERS, topic, [
      { value: 'ok', partition: 0 },
      { value: 'bad', partition: 1 },
    ]);

    const finished: unknown[] = [];
    const onFinished = (message: unknown) => finished.push(message);
    subscribe(RECORD_FINISHED_CHANNEL, onFinished);
    cleanup.push(async () => unsubscribe(RECORD_FINISHED_CHANNEL, onFinished));
    const sandboxes = new SandboxPool({
      module: fileURLToPath(new URL('../support/late-handler.ts', import.meta.url)),
      channels: [...RUNTIME_CHANNELS, RECORD_FINISHED_CHANNEL],
    });
    cleanup.push(() => sandboxes.close());
    const { destination, records: failures } = recordingDestination();
    const emulator = new EventSourceMappingEmulator({
      kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }),
      topic,
      bootstrapServers: env.KAFKA_BROKERS,
      handler: sandboxes.handler,
      functionTimeoutMs: 1_000,
      settings: { topics: [topic], batchSize: 10, maxBatchingWindowSeconds: 1, retryAttempts: 0 },
      onFailure: destination,
    });
    cleanup.push(() => emulator.stop());
    await emulator.start();

    // Every invocation outlasts its timeout, so every sandbox started must have been stopped:
    // once its thread has exited, nothing it had scheduled (the late write) can ever run.
    const deadline = Date.now() + 30_000;
    while ((emulator.stats.discarded < 2 || sandboxes.alive > 0) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
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

describe('the sandbox pool', () => {
  const module = fileURLToPath(new URL('../support/sandbox-functions.ts', import.meta.url));
  const pool = (options: Partial<SandboxOptions> = {}) => {
    const p = new SandboxPool({ module, exportName: 'echo', ...options });
    cleanup.push(() => p.close());
    return p;
  };
  const untilNoneAlive = async (p: SandboxPool) => {
    const deadline = Date.now() + 10_000;
    while (p.alive > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(p.alive).toBe(0);
  };

  it('runs the function with the event and context it was given, and reuses an idle sandbox (a warm start)', async () => {
    const p = pool({ warm: 1 });
    expect(p.started).toBe(1);
    const context = lambdaContext(5_000, 'orders');
    const first = (await p.invoke({ n: 1 }, context)) as Record<string, unknown>;
    expect(first).toMatchObject({ event: { n: 1 }, awsRequestId: context.awsRequestId, functionName: 'orders' });
    expect(first.remainingMs).toBeGreaterThan(0);
    expect(first.remainingMs).toBeLessThanOrEqual(5_000);
    const second = (await p.invoke({ n: 2 }, lambdaContext(5_000))) as Record<string, unknown>;
    expect(second.threadId).toBe(first.threadId);
    expect(p.started).toBe(1);
    expect(p.alive).toBe(1);
    // Two at once after that: the idle sandbox serves one, a new one the other (never one for both).
    const both = (await Promise.all([3, 4].map((n) => p.invoke({ n, waitMs: 200 }, lambdaContext(5_000))))) as Array<{
      event: { n: number };
      threadId: number;
    }>;
    expect(both.map((a) => a.event.n)).toEqual([3, 4]);
    expect(new Set(both.map((a) => a.threadId)).size).toBe(2);
    expect(p.started).toBe(2);
  });

  // Lambda initializes provisioned concurrency before it sends traffic, and an Init phase has a
  // limit of its own (Lambda guide, "Lambda execution environment"): a pool's warm sandboxes are
  // ready once their module is loaded, so that no first invocation spends its timeout loading it.
  it('is ready once each warm sandbox has initialized its function', async () => {
    const initialized: unknown[] = [];
    const onTest = (message: unknown) => initialized.push(message);
    subscribe(SANDBOX_TEST_CHANNEL, onTest);
    cleanup.push(async () => unsubscribe(SANDBOX_TEST_CHANNEL, onTest));
    const slow = fileURLToPath(new URL('../support/slow-init-function.ts', import.meta.url));
    const p = pool({ module: slow, exportName: 'handler', warm: 2, channels: [SANDBOX_TEST_CHANNEL] });
    await p.ready;
    expect(initialized).toHaveLength(2);
    await expect(pool({ exportName: 'notAFunction', warm: 1 }).ready).resolves.toBeUndefined(); // a failed init is over too
  });

  it('starts one sandbox per invocation in flight', async () => {
    const p = pool();
    const answers = (await Promise.all([1, 2].map((n) => p.invoke({ n, waitMs: 300 }, lambdaContext(5_000))))) as Array<{
      threadId: number;
    }>;
    expect(p.started).toBe(2);
    expect(new Set(answers.map((a) => a.threadId)).size).toBe(2);
  });

  it('forwards the channels it was told to, and only those', async () => {
    const p = pool({ channels: [SANDBOX_TEST_CHANNEL] });
    const seen: string[] = [];
    const onTest = () => seen.push('forwarded');
    const onOther = () => seen.push('not forwarded');
    subscribe(SANDBOX_TEST_CHANNEL, onTest);
    subscribe('test:not-forwarded', onOther);
    cleanup.push(async () => (unsubscribe(SANDBOX_TEST_CHANNEL, onTest), unsubscribe('test:not-forwarded', onOther)));
    await p.invoke({}, lambdaContext(5_000));
    expect(seen).toEqual(['forwarded']);
  });

  it("fails an invocation with the function's error, and stops that sandbox", async () => {
    const p = pool({ exportName: 'fail' });
    const error = await p.invoke({}, lambdaContext(5_000)).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'OrderError', message: 'the order is malformed' });
    await untilNoneAlive(p);
    await p.invoke({}, lambdaContext(5_000)).catch(() => undefined);
    expect(p.started).toBe(2); // a new sandbox: the failed one was not reused
  });

  it('fails an invocation whose function ends its sandbox, naming the exit code', async () => {
    const p = pool({ exportName: 'exit' });
    await expect(p.invoke({}, lambdaContext(5_000))).rejects.toThrow('the sandbox exited (code 3) during the invocation');
    expect(p.alive).toBe(0);
  });

  it('fails an invocation whose function throws outside it (an uncaught error ends the sandbox), and carries on', async () => {
    const p = pool({ exportName: 'crash' });
    await expect(p.invoke({}, lambdaContext(5_000))).rejects.toThrow('the sandbox exited (code 1) during the invocation');
    expect(p.alive).toBe(0);
  });

  it('never hands an invocation to a sandbox that ended while idle', async () => {
    const p = pool({ exportName: 'exitWhenIdle' });
    const first = (await p.invoke({}, lambdaContext(5_000))) as { threadId: number };
    await untilNoneAlive(p);
    const second = (await p.invoke({}, lambdaContext(5_000))) as { threadId: number };
    expect(second.threadId).not.toBe(first.threadId);
    expect(p.started).toBe(2);
  });

  it('keeps its idle sandboxes when a busy one ends', async () => {
    const p = pool({ exportName: 'exitIfAsked', warm: 2 });
    await expect(p.invoke({ exit: true }, lambdaContext(5_000))).rejects.toThrow('the sandbox exited (code 4) during the invocation');
    expect(p.alive).toBe(1);
    await p.invoke({}, lambdaContext(5_000)); // the other warm sandbox, still idle
    expect(p.started).toBe(2);
  });

  it('leaves no listener behind on the sandbox or the signal, however an invocation ends', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    cleanup.push(async () => process.off('warning', onWarning));
    const p = pool({ exportName: 'exitIfAsked', warm: 1 });
    const signals = Array.from({ length: 12 }, () => new AbortController().signal);
    // Twelve on one warm sandbox: a listener left per invocation would pass Node's limit of 10.
    for (const signal of signals) await p.invoke({}, lambdaContext(5_000), signal);
    const ended = new AbortController().signal;
    await expect(p.invoke({ exit: true }, lambdaContext(5_000), ended)).rejects.toThrow('exited (code 4)');
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    expect(p.started).toBe(1);
    expect([...signals, ended].map((s) => getEventListeners(s, 'abort').length)).toEqual(Array(13).fill(0));
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('stops the sandbox of an invocation whose signal aborts (a time-out), and never starts one for a signal already aborted', async () => {
    const p = pool({ exportName: 'hang' });
    const timeout = new AbortController();
    const invocation = p.invoke({}, lambdaContext(5_000), timeout.signal);
    timeout.abort(new Error('Task timed out after 1.00 seconds'));
    await expect(invocation).rejects.toThrow('Task timed out after 1.00 seconds');
    await untilNoneAlive(p);
    await expect(p.invoke({}, lambdaContext(5_000), timeout.signal)).rejects.toThrow('Task timed out');
    expect(p.started).toBe(1);
  });

  it('keeps the sandbox of an invocation that finished when its signal aborts later', async () => {
    const p = pool();
    const signal = new AbortController();
    const first = (await p.invoke({}, lambdaContext(5_000), signal.signal)) as { threadId: number };
    signal.abort(new Error('too late to matter'));
    const second = (await p.invoke({}, lambdaContext(5_000))) as { threadId: number };
    expect(second.threadId).toBe(first.threadId);
    expect(p.started).toBe(1);
  });

  it('names the module and export when the export is not a function', async () => {
    const p = pool({ exportName: 'notAFunction' });
    await expect(p.invoke({}, lambdaContext(5_000))).rejects.toThrow(`${module} does not export a function named "notAFunction"`);
  });

  it('stops every sandbox when closed, and refuses invocations after', async () => {
    const p = pool({ warm: 2 });
    await p.close();
    await untilNoneAlive(p);
    await expect(p.invoke({}, lambdaContext(5_000))).rejects.toThrow('the sandbox pool is closed');
  });
});
