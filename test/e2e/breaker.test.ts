// The outage breaker end to end, locally: the runtime's consumer (in this process, as the Lambda
// would run it) behind the event source mapping emulator on the embedded broker, dead letters to
// the embedded SQS, the breaker's Lambda API calls served by the local Lambda API (started here:
// it serves this process's emulators), and the resumer's handler on its local schedule. Each test
// has its own topic, queue and function name, so its mapping is the only one its calls find.
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { LambdaClient, ListTagsCommand } from '@aws-sdk/client-lambda';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { kafkaConsumer } from '../../src/runtime/index.js';
import { BREAKER_TAG, ENV } from '../../src/contract/index.js';
import { decodeBreakerState, type BreakerState } from '../../src/breaker/breaker-state.js';
import { EventSourceMappingEmulator } from '../../local/esm/emulator.js';
import { startLocalLambdaApi, type LocalLambdaApi } from '../../local/lambda-api.js';
import { startResumerSchedule, type ResumerSchedule } from '../../local/breaker-schedule.js';
import { DownstreamOutageError } from '../../local/errors.js';
import { produce, uniqueTopic } from '../support/kafka.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';

const env = inject('localEnv');
const saved = { ...process.env };
/** The first cool-down here: 1 s (the jitter makes it 0.8–1.2 s), the second 2 s (1.6–2.4 s). */
const COOL_DOWN_SECONDS = 1;
let api: LocalLambdaApi;
let lambda: LambdaClient;
const sqs = sqsClient(env);
beforeAll(async () => {
  api = await startLocalLambdaApi();
  // What the construct's breaker sets on the consumer; the runtime's SDK clients read the rest, as in Lambda.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
    AWS_ENDPOINT_URL_LAMBDA: api.endpoint,
    AWS_REGION: env.AWS_REGION,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    [ENV.breakerCoolDownSeconds]: String(COOL_DOWN_SECONDS),
    [ENV.breakerMaxCoolDownSeconds]: '8',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  lambda = new LambdaClient({
    endpoint: api.endpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
});
const running: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.stop();
});
afterAll(async () => {
  lambda.destroy();
  sqs.destroy();
  await api.stop();
  process.env = saved;
});

const until = async (done: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

let functions = 0;
/**
 * `count` records on one partition of a new topic, consumed by the runtime behind a new mapping of
 * a function of its own; `fail(offset)` decides each record's fate. The breaker's tag is watched
 * all along: `opened` lists each open state the consumer wrote.
 */
async function consume(count: number, fail: (offset: number) => Error | undefined) {
  const topic = uniqueTopic('e2e-breaker');
  const functionName = `breaker-consumer-${++functions}`;
  const queue = await freshQueue(sqs, 'breaker');
  running.push({ stop: async () => void (await queue.remove()) });
  await produce(
    env.KAFKA_BROKERS,
    topic,
    Array.from({ length: count }, (_, i) => ({ key: `k${i % 3}`, value: JSON.stringify({ i }), partition: 0 })),
  );
  const finished: number[] = [];
  const handler = kafkaConsumer({
    deadLetterQueueUrl: queue.url,
    retry: { maxAttempts: 2, baseDelayMs: 10 },
    processRecord: async (record) => {
      const error = fail(record.offset);
      if (error) throw error;
      finished.push(record.offset);
    },
  });
  const emulator = new EventSourceMappingEmulator({
    kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }),
    topic,
    functionName,
    bootstrapServers: env.KAFKA_BROKERS,
    handler: (event, context) => handler(event as Parameters<typeof handler>[0], context),
    retryDelayMs: 50,
    sessionTimeoutMs: 6_000,
    settings: { topics: [topic], batchSize: 5, maxBatchingWindowSeconds: 0 },
  });
  api.attach(emulator);
  running.push(emulator);
  const pausesBefore = api.pauses;
  await emulator.start();
  const opened: BreakerState[] = [];
  let lastTag: string | undefined;
  const watch = setInterval(() => {
    void lambda
      .send(new ListTagsCommand({ Resource: `arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${emulator.mappingUuid}` }))
      .then(
        ({ Tags = {} }) => {
          const value = Tags[BREAKER_TAG];
          if (value === lastTag) return;
          lastTag = value;
          const { state } = decodeBreakerState(value);
          if (state.position === 'open') opened.push(state);
        },
        () => undefined,
      );
  }, 50);
  running.push({ stop: async () => clearInterval(watch) });
  let resumer: ResumerSchedule | undefined;
  return {
    emulator,
    finished,
    opened,
    pauses: () => api.pauses - pausesBefore,
    deadLetters: async () => drain(sqs, queue.url),
    startResumer: async () => {
      resumer = await startResumerSchedule(functionName, () => undefined);
      running.push(resumer);
    },
  };
}

const outage = () => new DownstreamOutageError('connect ECONNREFUSED 127.0.0.1:5432');
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('the outage breaker, locally', () => {
  it('an outage pauses the mapping and dead-letters nothing; once the downstream is back, the resumer resumes it and every record is processed in order', async () => {
    let down = true;
    const c = await consume(10, () => (down ? outage() : undefined));
    await until(() => c.emulator.state === 'Disabled', 'the mapping to be disabled');
    expect(c.pauses()).toBe(1);
    expect(c.finished).toEqual([]);
    down = false;
    // Nothing resumes it but the resumer: it stays paused past its cool-down without one.
    await new Promise((resolve) => setTimeout(resolve, COOL_DOWN_SECONDS * 1_200 + 500));
    expect(c.emulator.state).toBe('Disabled');
    await c.startResumer();
    await until(() => c.finished.length >= 10, 'every record to be processed');
    expect(c.emulator.state).toBe('Enabled');
    expect(c.finished).toEqual(range(10));
    expect(await c.deadLetters()).toEqual([]);
  });

  it('dead-letters a bad record as before when the downstream is up, without pausing', async () => {
    const c = await consume(10, (offset) => (offset === 3 ? new Error('bad order') : undefined));
    await until(() => c.finished.length >= 9, 'the good records to be processed');
    const letters = await c.deadLetters();
    expect(letters.map((m) => (JSON.parse(m.Body!) as { record: { offset: number } }).record.offset)).toEqual([3]);
    expect(c.pauses()).toBe(0);
    expect(c.emulator.state).toBe('Enabled');
  });

  it('backs off a flapping downstream: opened again on probation, with a longer cool-down', async () => {
    let down = true;
    const c = await consume(5, () => (down ? outage() : undefined));
    await c.startResumer();
    // Resumed after ~1 s, the first invocation meets the outage again: opened a second time.
    await until(() => c.opened.some((s) => s.opens === 2), 'the breaker to open a second time', 30_000);
    down = false;
    const [first, second] = c.opened;
    expect(first!.opens).toBe(1);
    const coolDown = (s: BreakerState) => s.until! - s.since;
    expect(coolDown(first!)).toBeLessThanOrEqual(COOL_DOWN_SECONDS * 1_200);
    expect(coolDown(second!)).toBeGreaterThanOrEqual(COOL_DOWN_SECONDS * 2 * 800);
    expect(c.pauses()).toBe(2);
    await until(() => c.finished.length >= 5, 'every record to be processed');
    expect(c.finished).toEqual(range(5));
    expect(await c.deadLetters()).toEqual([]);
  });
});
