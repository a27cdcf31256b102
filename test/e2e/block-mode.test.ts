// failureMode 'block' end to end, locally: the runtime's consumer (in this process, as the Lambda
// would run it) behind the event source mapping emulator on the embedded broker, dead letters to
// the embedded SQS. A record that fails for good holds its partition (redelivered from it,
// invocation after invocation: the partial batch response, docs/aws-contracts.md §2) while the
// other partitions flow; once the failure is fixed the partition resumes, in order, with nothing
// dead-lettered.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { kafkaConsumer } from '../../src/runtime/index.js';
import { EventSourceMappingEmulator } from '../../local/esm/emulator.js';
import { produce, uniqueTopic } from '../support/kafka.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';

const env = inject('localEnv');
const saved = { ...process.env };
const sqs = sqsClient(env);
beforeAll(() => {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
    AWS_REGION: env.AWS_REGION,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});
const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});
afterAll(() => {
  sqs.destroy();
  process.env = saved;
});

const until = async (done: () => boolean, what: string, timeoutMs = 60_000) => {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** Each offset's first completion, in the order they happened. */
const firstCompletions = (finished: readonly number[]) => [...new Set(finished)];

describe("failureMode 'block', locally", () => {
  it('holds a partition at a record that fails for good, invocation after invocation, lets another partition flow, and resumes it in order once fixed; nothing dead-lettered', async () => {
    const topic = uniqueTopic('e2e-block');
    const queue = await freshQueue(sqs, 'block');
    running.push({ stop: async () => void (await queue.remove()) });
    const perPartition = 6;
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1].flatMap((partition) => range(perPartition).map((i) => ({ key: `k${i % 2}`, value: JSON.stringify({ i }), partition }))),
    );
    let fixed = false;
    let blockedAttempts = 0;
    const finished = new Map<number, number[]>([
      [0, []],
      [1, []],
    ]);
    const handler = kafkaConsumer({
      deadLetterQueueUrl: queue.url,
      failureMode: 'block',
      retry: { maxAttempts: 2, baseDelayMs: 10 },
      processRecord: (record) => {
        if (record.partition === 0 && record.offset === 2 && !fixed) {
          blockedAttempts++;
          throw new Error('this version of the handler cannot process it');
        }
        finished.get(record.partition)!.push(record.offset);
      },
    });
    const emulator = new EventSourceMappingEmulator({
      kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }),
      topic,
      functionName: 'block-consumer',
      bootstrapServers: env.KAFKA_BROKERS,
      handler: (event, context) => handler(event as Parameters<typeof handler>[0], context),
      retryDelayMs: 50,
      sessionTimeoutMs: 6_000,
      settings: { topics: [topic], batchSize: 4, maxBatchingWindowSeconds: 0 },
    });
    running.push(emulator);
    await emulator.start();

    // Blocked: at least three invocations' attempts on 0@2 (two each), partition 1 done meanwhile.
    await until(() => blockedAttempts >= 6 && finished.get(1)!.length >= perPartition, 'partition 0 blocked and partition 1 done');
    expect(firstCompletions(finished.get(1)!)).toEqual(range(perPartition));
    expect(firstCompletions(finished.get(0)!)).toEqual([0, 1]); // nothing after the blocked record ran
    expect(await drain(sqs, queue.url)).toEqual([]);

    fixed = true; // the fix is deployed
    await until(() => new Set(finished.get(0)).size === perPartition, 'partition 0 resumed');
    expect(firstCompletions(finished.get(0)!)).toEqual(range(perPartition));
    expect(await drain(sqs, queue.url)).toEqual([]);
  });
});
