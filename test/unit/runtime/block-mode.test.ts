// failureMode 'block' in-process: the processor over a fake dead-letter queue. A record that fails
// for good is held, never dead-lettered: its partition is reported for redelivery from it (the
// partial batch response, docs/aws-contracts.md §2: "Lambda resumes that topic-partition FROM that
// offset"; https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html), and no
// later record of the partition starts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaBatchProcessor } from '../../../src/runtime/batch-processor.js';
import type { KafkaConsumerOptions } from '../../../src/runtime/processor-config.js';
import { NonRetryableError, WholeBatchRetryError } from '../../../src/runtime/errors.js';
import type { KafkaRecord } from '../../../src/runtime/record.js';
import { buildKafkaEvent, type BrokerRecord } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { captureOutput } from '../../support/output.js';
import { fakeQueue } from '../../support/dead-letter-transport.js';

const SECRET = 'do-not-log-me';
const records = (topic: string, partition: number, n: number, key = (o: number) => `k${o}`): BrokerRecord[] =>
  Array.from({ length: n }, (_, offset) => ({ topic, partition, offset, key: key(offset), value: JSON.stringify({ offset, SECRET }) }));
const failures = (...ids: Array<[string, number]>) => ({
  batchItemFailures: ids.map(([partition, offset]) => ({ itemIdentifier: { partition, offset } })),
});
const emf = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l._aws);

function processor(options: Partial<KafkaConsumerOptions>) {
  const queue = fakeQueue();
  const ran: string[] = [];
  const p = new KafkaBatchProcessor({
    deadLetterQueueUrl: 'http://queue',
    deadLetterTransport: queue.transport,
    retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    concurrency: 1,
    failureMode: 'block',
    telemetry: { namespace: 'Ns', serviceName: 'svc' },
    ...options,
  } as KafkaConsumerOptions);
  return { p, ran, deadLettered: () => queue.sent.map(({ record: r }) => `${r.topic}-${r.partition}@${r.offset}`) };
}

/** A handler that records each attempt and fails for `bad` (`topic-partition@offset`). */
const failing =
  (ran: string[], ...bad: string[]) =>
  (r: KafkaRecord) => {
    const id = `${r.partitionKey}@${r.offset}`;
    ran.push(id);
    if (bad.includes(id)) throw new Error(`cannot handle ${JSON.stringify(r.value)}`);
  };

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("failureMode 'block'", () => {
  it('redelivers a record that keeps failing invocation after invocation, never dead-letters it, and runs nothing after it in its partition', async () => {
    const lines = captureOutput();
    const ran: string[] = [];
    const { p, deadLettered } = processor({ processRecord: failing(ran, 'orders-0@1') });
    const event = buildKafkaEvent([...records('orders', 0, 4), ...records('orders', 1, 2)]);
    for (let invocation = 0; invocation < 3; invocation++) {
      ran.length = 0;
      await expect(p.process(event, lambdaContext(30_000, 'consumer'))).resolves.toEqual(failures(['orders-0', 1]));
      // Its attempts, and nothing after it in partition 0; partition 1 flows.
      expect(ran).toEqual(['orders-0@0', 'orders-0@1', 'orders-0@1', 'orders-0@1', 'orders-1@0', 'orders-1@1']);
    }
    expect(deadLettered()).toEqual([]);
    const blocked = lines.filter((l) => l.message === 'partition blocked');
    expect(blocked).toHaveLength(3); // one per invocation
    expect(blocked[0]).toMatchObject({ level: 'ERROR', topic: 'orders', partition: 0, offset: 1, errorType: 'Error', attempts: 3 });
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it('publishes RecordsBlocked (service, topic) and BlockedOffset (service, topic, partition)', async () => {
    const lines = captureOutput();
    const ran: string[] = [];
    const { p } = processor({ processRecord: failing(ran, 'orders-1@2') });
    await p.process(buildKafkaEvent([...records('orders', 0, 2), ...records('orders', 1, 4)]), lambdaContext(30_000, 'consumer'));
    const metrics = emf(lines);
    expect(metrics[0]).toMatchObject({ service: 'svc', topic: 'orders', RecordsBlocked: 1, RecordsDeadLettered: 0, RecordsRedelivered: 2 });
    const offsetLine = metrics.find((l) => 'BlockedOffset' in l);
    expect(offsetLine).toMatchObject({ service: 'svc', topic: 'orders', partition: '1', BlockedOffset: 2 });
    expect((offsetLine!._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0]!.Dimensions).toEqual([
      ['service', 'topic', 'partition'],
    ]);
  });

  it("with ordering 'key', stops the other keys of a blocked partition at the blocked offset", async () => {
    captureOutput();
    const ran: string[] = [];
    // Offsets 0 (key b, fails for good), 1 and 2 (key a): key b's group runs first (concurrency 1).
    const keys = ['b', 'a', 'a'];
    const { p, deadLettered } = processor({ ordering: 'key', processRecord: failing(ran, 'orders-0@0') });
    const response = await p.process(
      buildKafkaEvent([...records('orders', 0, 3, (o) => keys[o]!), ...records('orders', 1, 1)]),
      lambdaContext(30_000, 'consumer'),
    );
    expect(response).toEqual(failures(['orders-0', 0]));
    expect(ran).toEqual(['orders-0@0', 'orders-0@0', 'orders-0@0', 'orders-1@0']);
    expect(deadLettered()).toEqual([]);
  });

  it('holds a value that cannot be deserialized (no retries), and a NonRetryableError, instead of dead-lettering them', async () => {
    const lines = captureOutput();
    const ran: string[] = [];
    const { p, deadLettered } = processor({
      processRecord: (r: KafkaRecord) => {
        ran.push(`${r.partitionKey}@${r.offset}`);
        if (r.partition === 1) throw new NonRetryableError('never');
      },
    });
    const event = buildKafkaEvent([
      { topic: 'orders', partition: 0, offset: 0, key: 'k', value: '{"ok":1}' },
      { topic: 'orders', partition: 0, offset: 1, key: 'k', value: `{not json ${SECRET}` },
      { topic: 'orders', partition: 0, offset: 2, key: 'k', value: '{"ok":2}' },
      ...records('orders', 1, 2),
    ]);
    expect(await p.process(event, lambdaContext(30_000, 'consumer'))).toEqual(failures(['orders-0', 1], ['orders-1', 0]));
    expect(ran).toEqual(['orders-0@0', 'orders-1@0']);
    expect(deadLettered()).toEqual([]);
    expect(lines.filter((l) => l.message === 'partition blocked')).toEqual([
      expect.objectContaining({ partition: 0, offset: 1, errorType: 'DeserializationError', attempts: 1 }),
      expect.objectContaining({ partition: 1, offset: 0, errorType: 'NonRetryableError', attempts: 1 }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it('processBatch: a batch that throws is isolated one record at a time, and the failing record blocks its partition', async () => {
    captureOutput();
    const calls: string[][] = [];
    const { p, deadLettered } = processor({
      processBatch: (batch: KafkaRecord[]) => {
        calls.push(batch.map((r) => `${r.partitionKey}@${r.offset}`));
        if (batch.some((r) => r.partition === 0 && r.offset === 1)) throw new Error('bad record in the batch');
      },
    });
    const response = await p.process(buildKafkaEvent([...records('orders', 0, 3), ...records('orders', 1, 1)]), lambdaContext(30_000, 'c'));
    expect(response).toEqual(failures(['orders-0', 1]));
    expect(calls.slice(1).flat()).toEqual(['orders-0@0', 'orders-0@1', 'orders-0@1', 'orders-0@1', 'orders-1@0']);
    expect(deadLettered()).toEqual([]);
  });

  it('with partial batch responses off, fails the invocation so that the whole batch comes again, dead-lettering nothing', async () => {
    captureOutput();
    const ran: string[] = [];
    const { p, deadLettered } = processor({ reportBatchItemFailures: false, processRecord: failing(ran, 'orders-0@0') });
    await expect(p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'c'))).rejects.toBeInstanceOf(
      WholeBatchRetryError,
    );
    expect(deadLettered()).toEqual([]);
  });

  it("is read from FAILURE_MODE; 'dead-letter' (the default) still dead-letters and publishes no RecordsBlocked", async () => {
    const lines = captureOutput();
    vi.stubEnv('FAILURE_MODE', 'block');
    const ran: string[] = [];
    const blocking = processor({ failureMode: undefined, processRecord: failing(ran, 'orders-0@0') });
    expect(await blocking.p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'c'))).toEqual(
      failures(['orders-0', 0]),
    );
    vi.stubEnv('FAILURE_MODE', '');
    const deadLettering = processor({ failureMode: undefined, processRecord: failing(ran, 'orders-0@0') });
    expect(await deadLettering.p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'c'))).toEqual(failures());
    expect(deadLettering.deadLettered()).toEqual(['orders-0@0']);
    const last = emf(lines).at(-1)!;
    expect(last).toHaveProperty('RecordsDeadLettered', 1);
    expect(last).not.toHaveProperty('RecordsBlocked');
  });

  it('refuses, naming both and the fix, an option that differs from FAILURE_MODE (the mapping was set up for the other mode); the same one is fine', () => {
    vi.stubEnv('FAILURE_MODE', 'dead-letter');
    expect(() => processor({ failureMode: 'block', processRecord: () => undefined })).toThrow(
      "failureMode is 'block' but FAILURE_MODE is 'dead-letter': the function's mapping was set up for 'dead-letter' and could skip records 'block' must hold. Give the KafkaConsumer construct failureMode: 'block'",
    );
    vi.stubEnv('FAILURE_MODE', 'block');
    expect(() => processor({ failureMode: 'block', processRecord: () => undefined })).not.toThrow();
    vi.stubEnv('FAILURE_MODE', 'sometimes');
    expect(() => processor({ failureMode: 'block', processRecord: () => undefined })).toThrow(
      'FAILURE_MODE is "sometimes"; it must be one of',
    );
  });
});
