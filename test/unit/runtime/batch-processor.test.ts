import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaBatchProcessor } from '../../../src/runtime/batch-processor.js';
import type { KafkaConsumerOptions } from '../../../src/runtime/processor-config.js';
import { NonRetryableError } from '../../../src/runtime/errors.js';
import type { KafkaRecord } from '../../../src/runtime/record.js';
import { buildKafkaEvent, type BrokerRecord } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { captureOutput } from '../../support/output.js';
import { fakeQueue, fakeTransport, refuseAll } from '../../support/dead-letter-transport.js';

const json = (v: unknown) => JSON.stringify(v);
const records = (topic: string, partition: number, values: unknown[], firstOffset = 0): BrokerRecord[] =>
  values.map((v, i) => ({ topic, partition, offset: firstOffset + i, key: `k${i % 2}`, value: v === null ? null : json(v) }));

function processor<V>(options: Partial<KafkaConsumerOptions<V>>, queue = fakeQueue()) {
  return new KafkaBatchProcessor<V>({
    deadLetterQueueUrl: 'http://queue',
    deadLetterTransport: queue.transport,
    retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    processRecord: async () => undefined,
    ...options,
  } as KafkaConsumerOptions<V>);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('KafkaBatchProcessor', () => {
  it('returns an empty failure list when every record succeeds, tombstones included', async () => {
    const seen: unknown[] = [];
    const p = processor({ processRecord: (r: KafkaRecord) => void seen.push(r.value) });
    const response = await p.process(buildKafkaEvent(records('orders', 0, [{ id: 1 }, null, { id: 2 }])), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ id: 1 }, null, { id: 2 }]);
  });

  it('retries a failing record, then dead-letters it whole with its error context', async () => {
    const queue = fakeQueue();
    let calls = 0;
    const p = processor(
      {
        processRecord: (r: KafkaRecord<{ fail?: boolean }>) => {
          if (r.value?.fail) {
            calls++;
            throw new TypeError('boom');
          }
        },
        consumerGroupId: 'group-1',
      },
      queue,
    );
    const event = buildKafkaEvent([
      {
        topic: 'orders',
        partition: 2,
        offset: 40,
        timestamp: 1_700_000_000_000,
        key: 'order-7',
        value: json({ fail: true }),
        headers: [
          ['h', Buffer.from([1, 2])],
          ['h', 'x'],
        ],
      },
      { topic: 'orders', partition: 2, offset: 41, value: json({}) },
    ]);
    const context = lambdaContext();
    expect(await p.process(event, context)).toEqual({ batchItemFailures: [] });
    expect(calls).toBe(3);
    expect(queue.sent).toHaveLength(1);
    const envelope = queue.sent[0]!;
    expect(envelope).toMatchObject({
      version: 1,
      kind: 'kafka-dead-letter',
      record: {
        topic: 'orders',
        partition: 2,
        offset: 40,
        timestamp: 1_700_000_000_000,
        timestampType: 'CREATE_TIME',
        key: Buffer.from('order-7').toString('base64'),
        value: Buffer.from(json({ fail: true })).toString('base64'),
        headers: [
          { name: 'h', value: 'AQI=' },
          { name: 'h', value: 'eA==' },
        ],
      },
      error: { type: 'TypeError', message: 'boom' },
      attempts: 3,
      source: { functionName: 'consumer', requestId: context.awsRequestId, eventSource: 'aws:kafka', consumerGroup: 'group-1-orders' },
      replayCount: 0,
    });
    expect(envelope.error.stack).toContain('TypeError: boom');
    expect(Date.parse(envelope.lastFailureAt)).toBeGreaterThanOrEqual(Date.parse(envelope.firstFailureAt));
  });

  it('does not retry non-retryable errors or values that cannot be deserialized', async () => {
    const queue = fakeQueue();
    let calls = 0;
    const p = processor(
      {
        processRecord: () => {
          calls++;
          throw new NonRetryableError('invalid order');
        },
      },
      queue,
    );
    const event = buildKafkaEvent([
      { topic: 't', partition: 0, offset: 0, value: json({}) },
      { topic: 't', partition: 0, offset: 1, value: 'not json {' },
    ]);
    await p.process(event, lambdaContext());
    expect(calls).toBe(1);
    expect(queue.sent.map((e) => [e.record.offset, e.error.type, e.attempts])).toEqual([
      [0, 'NonRetryableError', 1],
      [1, 'DeserializationError', 1],
    ]);
    expect(Buffer.from(queue.sent[1]!.record.value!, 'base64').toString()).toBe('not json {');
  });

  it('dead-letters a record whose key or value is not base64, as it came, and processes the rest', async () => {
    const queue = fakeQueue();
    const keys: string[] = [];
    const p = processor(
      { keyDeserializer: 'string', processRecord: (r: KafkaRecord<unknown, unknown>) => void keys.push(r.key as string) },
      queue,
    );
    const event = buildKafkaEvent(records('t', 0, [{}, {}, {}, {}]));
    event.records['t-0']![1]!.key = 'abc';
    event.records['t-0']![2]!.value = 'not base64!';
    expect(await p.process(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(keys).toEqual(['k0', 'k1']);
    expect(queue.sent.map((e) => [e.record.offset, e.record.key, e.record.value, e.error.type, e.attempts])).toEqual([
      [1, 'abc', event.records['t-0']![1]!.value, 'DeserializationError', 1],
      [2, Buffer.from('k0').toString('base64'), 'not base64!', 'DeserializationError', 1],
    ]);
  });

  it('succeeds on a retry of a transient failure without dead-lettering', async () => {
    const queue = fakeQueue();
    let failures = 0;
    const p = processor(
      {
        processRecord: () =>
          void (
            failures++ < 2 &&
            (() => {
              throw new Error('flaky');
            })()
          ),
      },
      queue,
    );
    expect(await p.process(buildKafkaEvent(records('t', 0, [{}])), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(queue.sent).toHaveLength(0);
  });

  it('reports the lowest offset of a partition whose dead letter could not be written; other partitions commit', async () => {
    const queue = fakeQueue(true);
    const processed: string[] = [];
    const p = processor(
      {
        processRecord: (r: KafkaRecord<{ fail?: boolean }>) => {
          if (r.value?.fail) throw new Error('bad');
          processed.push(`${r.partitionKey}@${r.offset}`);
        },
      },
      queue,
    );
    const event = buildKafkaEvent([...records('t', 0, [{}, { fail: true }, {}, { fail: true }], 10), ...records('t', 1, [{}, {}])]);
    const response = await p.process(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 11 } }] });
    expect(processed).toContain('t-1@1');
  });

  it('redelivers instead of dropping when no dead-letter queue is configured, with one log line per invocation', async () => {
    vi.stubEnv('DLQ_URL', '');
    const lines = captureOutput();
    const p = new KafkaBatchProcessor({
      processRecord: () => {
        throw new NonRetryableError('x');
      },
    });
    const response = await p.process(buildKafkaEvent(records('t', 3, [{}, {}, {}], 5)), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-3', offset: 5 } }] });
    const errors = lines.filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain('DLQ_URL is not set, so 3 records');
    expect(lines.find((l) => l._aws)).toMatchObject({ RecordsDeadLettered: 0, DeadLetterSendErrors: 3 });
  });

  it('logs and counts as dead-lettered only what SQS accepted', async () => {
    const lines = captureOutput();
    const p = processor(
      {
        processRecord: (r: KafkaRecord<{ fail?: boolean }>) => {
          if (r.value?.fail) throw new NonRetryableError('x');
        },
      },
      fakeQueue(true),
    );
    const response = await p.process(buildKafkaEvent(records('t', 0, [{}, { fail: true }, { fail: true }])), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 1 } }] });
    expect(lines.some((l) => String(l.message).includes('were dead-lettered'))).toBe(false);
    expect(lines.find((l) => l._aws)).toMatchObject({
      RecordsProcessed: 1,
      RecordsDeadLettered: 0,
      DeadLetterSendErrors: 2,
      RecordsRedelivered: 2,
    });
  });

  it('never logs keys or values unless logRecordContents is on, and lists at most 20 dead letters', async () => {
    const failing = Array.from({ length: 25 }, () => ({ secret: 'card-4242' }));
    for (const logRecordContents of [false, true]) {
      const lines = captureOutput();
      const p = processor({
        logRecordContents,
        processRecord: () => {
          throw new NonRetryableError('x');
        },
      });
      await p.process(buildKafkaEvent(records('t', 0, failing)), lambdaContext());
      const logged = lines.filter((l) => !l._aws);
      const line = logged.find((l) => String(l.message).includes('were dead-lettered'))!;
      expect(line).toMatchObject({ deadLettered: 25, recordsNotListed: 5 });
      expect((line.records as unknown[]).length).toBe(20);
      const secret = Buffer.from(json({ secret: 'card-4242' })).toString('base64');
      expect(JSON.stringify(logged).includes(secret)).toBe(logRecordContents);
      vi.restoreAllMocks();
    }
  });

  it('with partial batch responses off (REPORT_BATCH_ITEM_FAILURES=false), fails the invocation instead of answering what Lambda would ignore', async () => {
    vi.stubEnv('REPORT_BATCH_ITEM_FAILURES', 'false');
    const p = processor(
      {
        processRecord: (r: KafkaRecord<{ fail?: boolean }>) => {
          if (r.value?.fail) throw new NonRetryableError('x');
        },
      },
      fakeQueue(true),
    );
    await expect(p.process(buildKafkaEvent(records('t', 0, [{}, { fail: true }])), lambdaContext())).rejects.toThrow(
      'Records of t-0 from offset 1 must be delivered again, but this mapping has partial batch responses off',
    );
    // Nothing to redeliver: an ordinary success.
    expect(await processor({}).process(buildKafkaEvent(records('t', 0, [{}])), lambdaContext())).toEqual({ batchItemFailures: [] });
  });

  it('refuses a REPORT_BATCH_ITEM_FAILURES that is neither true nor false', () => {
    vi.stubEnv('REPORT_BATCH_ITEM_FAILURES', 'no');
    expect(() => processor({})).toThrow('REPORT_BATCH_ITEM_FAILURES is "no"; it must be true or false');
  });

  it('writes dead letters under a short timeout whose safety margin is not a whole number of milliseconds', async () => {
    const queue = fakeQueue();
    const context = { ...lambdaContext(), getRemainingTimeInMillis: () => 4_968.5 };
    const p = processor(
      {
        processRecord: (r: KafkaRecord<{ fail?: boolean }>) => {
          if (r.value?.fail) throw new NonRetryableError('x');
        },
      },
      queue,
    );
    expect(await p.process(buildKafkaEvent(records('t', 0, [{}, { fail: true }, {}])), context)).toEqual({ batchItemFailures: [] });
    expect(queue.sent.map((e) => e.record.offset)).toEqual([1]);
  });

  it('stops before the deadline and reports what it could not finish', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const seen: number[] = [];
    const p = processor({
      timeSafetyMarginMs: 1_000,
      processRecord: async (r: KafkaRecord) => {
        seen.push(r.offset);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
      },
    });
    const context = lambdaContext(5_000);
    const done = p.process(buildKafkaEvent(records('t', 0, [{}, {}, {}, {}, {}])), context);
    await vi.runAllTimersAsync();
    const response = await done;
    // 0 s, 1.5 s, 3 s start; the 4th would start at 4.5 s, past the 4 s cut-off.
    expect(seen).toEqual([0, 1, 2]);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 3 } }] });
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('keeps two invocations that run at once apart: each its own deadline and context', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const seen: string[] = [];
    const p = processor({
      timeSafetyMarginMs: 1_000,
      processRecord: async (r: KafkaRecord, context) => {
        seen.push(`${r.topic}@${r.offset} ${context.functionName}`);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
      },
    });
    // The handler keeps one runner between invocations; the second one at once must get its own.
    const short = p.process(buildKafkaEvent(records('short', 0, [{}, {}, {}, {}, {}])), lambdaContext(5_000, 'short'));
    const long = p.process(buildKafkaEvent(records('long', 0, [{}, {}, {}, {}, {}])), lambdaContext(60_000, 'long'));
    await vi.runAllTimersAsync();
    expect(await short).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'short-0', offset: 3 } }] });
    expect(await long).toEqual({ batchItemFailures: [] });
    expect(seen.filter((s) => s.startsWith('short'))).toEqual(['short@0 short', 'short@1 short', 'short@2 short']);
    expect(seen.filter((s) => s.startsWith('long'))).toEqual([0, 1, 2, 3, 4].map((o) => `long@${o} long`));
    // And the runner kept between them still serves the next invocation.
    const next = p.process(buildKafkaEvent(records('next', 0, [{}])), lambdaContext(5_000, 'next'));
    await vi.runAllTimersAsync();
    expect(await next).toEqual({ batchItemFailures: [] });
    expect(seen.at(-1)).toBe('next@0 next');
  });

  it('lets go of the event once the invocation is over, though it keeps its runner', async () => {
    setFlagsFromString('--expose-gc');
    const collectGarbage = runInNewContext('gc') as () => void;
    const p = processor({ processRecord: () => undefined });
    const invoke = async () => {
      const event = buildKafkaEvent(records('t', 0, [{}, {}]));
      await p.process(event, lambdaContext());
      return new WeakRef(event.records['t-0']!);
    };
    const records0 = await invoke();
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(records0.deref()).toBeUndefined();
  });

  it('backs off between attempts and gives up retrying when the next delay would cross the deadline', async () => {
    vi.useFakeTimers({ now: 0 });
    const attemptsAt: number[] = [];
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const p = processor({
      retry: { maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 8_000 },
      timeSafetyMarginMs: 1_000,
      processRecord: () => {
        attemptsAt.push(Date.now());
        throw new Error('down');
      },
    });
    const done = p.process(buildKafkaEvent(records('t', 0, [{}])), lambdaContext(10_000));
    await vi.runAllTimersAsync();
    // delays 500, 1000, 2000, 4000 → attempts at 0, 0.5, 1.5, 3.5, 7.5 s; the next (4 s) would pass 9 s.
    expect(attemptsAt).toEqual([0, 500, 1_500, 3_500, 7_500]);
    expect(await done).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 0 } }] });
  });

  it('keeps offset order within a partition and runs partitions in parallel', async () => {
    const log: string[] = [];
    const p = processor({
      processRecord: async (r: KafkaRecord) => {
        log.push(`start ${r.partitionKey}@${r.offset}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`end ${r.partitionKey}@${r.offset}`);
      },
    });
    await p.process(buildKafkaEvent([...records('t', 0, [{}, {}]), ...records('t', 1, [{}, {}])]), lambdaContext());
    expect(log.slice(0, 2)).toEqual(['start t-0@0', 'start t-1@0']);
    expect(log.indexOf('start t-0@1')).toBeGreaterThan(log.indexOf('end t-0@0'));
  });

  it('in key mode keeps per-key order and runs different keys of one partition in parallel', async () => {
    const log: string[] = [];
    const p = processor({
      ordering: 'key',
      processRecord: async (r: KafkaRecord) => {
        log.push(`start ${r.rawKey}@${r.offset}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        log.push(`end ${r.rawKey}@${r.offset}`);
      },
    });
    await p.process(buildKafkaEvent(records('t', 0, [{}, {}, {}, {}])), lambdaContext()); // keys k0,k1,k0,k1
    expect(log.slice(0, 2)).toEqual(['start k0@0', 'start k1@1']);
    expect(log.indexOf('start k0@2')).toBeGreaterThan(log.indexOf('end k0@0'));
  });

  it('falls back from a failing processBatch to one record at a time to isolate the bad one', async () => {
    const queue = fakeQueue();
    const batches: number[][] = [];
    const p = processor(
      {
        processRecord: undefined,
        processBatch: (rs: KafkaRecord<{ bad?: boolean }>[]) => {
          batches.push(rs.map((r) => r.offset));
          if (rs.some((r) => r.value?.bad)) throw new Error('constraint violation');
        },
      },
      queue,
    );
    const response = await p.process(buildKafkaEvent(records('t', 0, [{}, { bad: true }, {}])), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(batches).toEqual([[0, 1, 2], [0], [1], [1], [1], [2]]);
    expect(queue.sent.map((e) => e.record.offset)).toEqual([1]);
  });

  it('rejects a malformed event with the reason, and still publishes metrics', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    const p = processor({});
    await expect(p.process({ eventSource: 'aws:kafka', records: [] }, lambdaContext())).rejects.toThrow('"records" must be an object');
    expect(lines.some((l) => l.includes('"HandlerErrors"'))).toBe(true);
  });

  it('emits one EMF line per topic with service and topic dimensions', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    const p = processor({
      telemetry: { namespace: 'Test', serviceName: 'svc' },
      processRecord: (r: KafkaRecord<{ fail?: boolean }>) => {
        if (r.value?.fail) throw new NonRetryableError('x');
      },
    });
    await p.process(buildKafkaEvent([...records('a', 0, [{}, { fail: true }]), ...records('b', 0, [{}])]), lambdaContext());
    const emf = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    expect(emf).toHaveLength(2);
    const a = emf.find((e) => e.topic === 'a');
    expect(a._aws.CloudWatchMetrics[0].Namespace).toBe('Test');
    expect(a._aws.CloudWatchMetrics[0].Dimensions[0].sort()).toEqual(['service', 'topic']);
    expect(a).toMatchObject({
      service: 'svc',
      RecordsReceived: 2,
      RecordsProcessed: 1,
      RecordsDeadLettered: 1,
      RecordsRedelivered: 0,
      BatchSize: 2,
    });
  });

  it('refuses options that make no sense, naming them', () => {
    expect(() => new KafkaBatchProcessor({})).toThrow('exactly one of processRecord or processBatch');
    expect(() => new KafkaBatchProcessor({ processRecord: () => 0, concurrency: 0 })).toThrow(
      'concurrency must be a whole number ≥ 1, got 0',
    );
    expect(() => new KafkaBatchProcessor({ processRecord: () => 0, deserializer: 'xml' as never })).toThrow(
      'Unknown value deserializer "xml"',
    );
  });
});

describe('KafkaBatchProcessor settings', () => {
  it('names a wrong ordering or concurrency', () => {
    expect(() => new KafkaBatchProcessor({ processRecord: () => 0, ordering: 'offset' as never })).toThrow(
      "ordering must be 'partition' or 'key', got \"offset\".",
    );
    expect(() => new KafkaBatchProcessor({ processRecord: () => 0, concurrency: 1.5 })).toThrow(
      'concurrency must be a whole number ≥ 1, got 1.5.',
    );
    expect(() => new KafkaBatchProcessor({ processRecord: () => 0, processBatch: () => 0 })).toThrow(
      'kafkaConsumer needs exactly one of processRecord or processBatch.',
    );
    expect(() => new KafkaBatchProcessor({ processRecord: () => 0, ordering: 'key', concurrency: 1 })).not.toThrow();
  });

  it.each(['', 'true'])('answers partial batch responses with REPORT_BATCH_ITEM_FAILURES=%j', async (value) => {
    vi.stubEnv('REPORT_BATCH_ITEM_FAILURES', value);
    const p = processor(
      {
        processRecord: (r: KafkaRecord<{ fail?: boolean }>) => {
          if (r.value?.fail) throw new NonRetryableError('x');
        },
      },
      fakeQueue(true),
    );
    expect(await p.process(buildKafkaEvent(records('t', 0, [{}, { fail: true }])), lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 1 } }],
    });
  });

  it('lets the reportBatchItemFailures option override the environment', async () => {
    vi.stubEnv('REPORT_BATCH_ITEM_FAILURES', 'no');
    const p = processor(
      {
        reportBatchItemFailures: false,
        processRecord: () => {
          throw new NonRetryableError('x');
        },
      },
      fakeQueue(true),
    );
    await expect(p.process(buildKafkaEvent(records('t', 0, [{}])), lambdaContext())).rejects.toThrow('partial batch responses off');
  });

  it('takes the queue, the bucket and the consumer group from DLQ_URL, DLQ_BUCKET and KAFKA_CONSUMER_GROUP', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/env-queue');
    vi.stubEnv('DLQ_BUCKET', 'env-bucket');
    vi.stubEnv('KAFKA_CONSUMER_GROUP', 'env-group');
    const fake = fakeTransport();
    const p = new KafkaBatchProcessor({
      deadLetterTransport: fake.transport,
      processRecord: () => {
        throw new NonRetryableError('x');
      },
    });
    await p.process(
      buildKafkaEvent([
        { topic: 't', partition: 0, offset: 0, value: 'x'.repeat(1_100_000) },
        { topic: 't', partition: 0, offset: 1, value: '{}' },
      ]),
      lambdaContext(),
    );
    expect(new Set(fake.sends.map((s) => s.queueUrl))).toEqual(new Set(['https://sqs/env-queue']));
    expect(fake.puts.map((s) => s.bucket)).toEqual(['env-bucket']);
    const byOffset = [...fake.accepted].sort((a, b) => a.record.offset - b.record.offset);
    expect(byOffset.map((e) => e.source?.consumerGroup ?? 'a pointer')).toEqual(['a pointer', 'env-group-t']);
  });

  it('runs at most `concurrency` partitions at once', async () => {
    let running = 0;
    let most = 0;
    const p = processor({
      concurrency: 2,
      processRecord: async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        running--;
      },
    });
    await p.process(buildKafkaEvent([0, 1, 2, 3].flatMap((partition) => records('t', partition, [{}]))), lambdaContext());
    expect(most).toBe(2);
  });

  it('keeps back at most half the remaining time as the safety margin', async () => {
    vi.useFakeTimers({ now: 0 });
    const seen: number[] = [];
    const p = processor({
      processRecord: async (r: KafkaRecord) => {
        seen.push(r.offset);
        await new Promise((resolve) => setTimeout(resolve, 1_500));
      },
    });
    // 4 s left and the default 3 s margin: the margin is cut to 2 s, so records start up to 2 s in.
    const done = p.process(buildKafkaEvent(records('t', 0, [{}, {}, {}])), lambdaContext(4_000));
    await vi.runAllTimersAsync();
    expect(await done).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 2 } }] });
    expect(seen).toEqual([0, 1]);
  });

  it('keeps retrying dead letters until a quarter of the margin before the Lambda deadline', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    vi.spyOn(Math, 'random').mockReturnValue(0); // no backoff delay
    // 10 s left, 3 s margin: dead letters must be in by 10 − 0.75 = 9.25 s.
    const clockAt = [9_249, 9_250];
    const fake = fakeTransport((call, entries) => {
      vi.setSystemTime(clockAt[call - 1] ?? 99_999);
      return refuseAll('ServiceUnavailable', false)(call, entries);
    });
    const p = processor(
      {
        retry: undefined,
        processRecord: () => {
          throw new NonRetryableError('x');
        },
      },
      { sent: fake.accepted, transport: fake.transport },
    );
    const response = await p.process(buildKafkaEvent(records('t', 0, [{}])), lambdaContext(10_000));
    expect(fake.sends).toHaveLength(2); // a retry at 9.249 s, none at 9.25 s
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 0 } }] });
  });

  it('counts the records of a processBatch that succeeds as processed', async () => {
    const lines = captureOutput();
    const p = processor({ processRecord: undefined, processBatch: () => undefined });
    await p.process(buildKafkaEvent([...records('a', 0, [{}, {}]), ...records('b', 1, [{}])]), lambdaContext());
    expect(lines.filter((l) => l._aws).map((l) => [l.topic, l.RecordsProcessed])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('falls back to one record at a time when a value of the batch cannot be deserialized, dead-lettering only that one', async () => {
    const queue = fakeQueue();
    const batches: number[][] = [];
    const p = processor(
      { processRecord: undefined, processBatch: (rs: KafkaRecord[]) => void batches.push(rs.map((r) => r.offset)) },
      queue,
    );
    const event = buildKafkaEvent(records('t', 0, [{}, {}, {}]));
    event.records['t-0']![1]!.value = Buffer.from('not json').toString('base64');
    expect(await p.process(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(batches).toEqual([[0], [2]]);
    expect(queue.sent.map((e) => [e.record.offset, e.error.type])).toEqual([[1, 'DeserializationError']]);
  });

  it('logs the partitions it reports for redelivery', async () => {
    const lines = captureOutput();
    const p = processor(
      {
        processRecord: () => {
          throw new NonRetryableError('x');
        },
      },
      fakeQueue(true),
    );
    await p.process(buildKafkaEvent(records('t', 0, [{}])), lambdaContext());
    expect(lines.find((l) => l.message === 'reporting partitions for redelivery')).toMatchObject({
      level: 'WARN',
      batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 0 } }],
    });
    expect(lines.find((l) => String(l.message).startsWith('processBatch failed'))).toBeUndefined();
  });
});

describe('KafkaBatchProcessor logs and metrics', () => {
  it("on success: no HandlerErrors, no redelivery warning, the invocation's duration, and logs that name the request", async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const lines = captureOutput();
    const context = lambdaContext();
    const p = processor({
      processRecord: async (r: KafkaRecord) => {
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (r.offset === 1) throw new NonRetryableError('x');
      },
    });
    const done = p.process(buildKafkaEvent(records('t', 0, [{}, {}])), context);
    await vi.runAllTimersAsync();
    await done;
    const emf = lines.find((l) => l._aws)!;
    expect(emf).not.toHaveProperty('HandlerErrors');
    expect(emf.BatchDuration).toBe(500);
    expect(lines.some((l) => l.message === 'reporting partitions for redelivery')).toBe(false);
    const deadLettered = lines.find((l) => String(l.message).includes('were dead-lettered'))!;
    expect(deadLettered.function_request_id).toBe(context.awsRequestId);
    expect(JSON.stringify(deadLettered)).not.toContain(Buffer.from('{}').toString('base64')); // logRecordContents is off by default
  });

  it('takes ordering "partition" explicitly', () => {
    expect(() => new KafkaBatchProcessor({ processRecord: () => 0, ordering: 'partition' })).not.toThrow();
  });

  it('names the key when a key deserializer fails', async () => {
    const queue = fakeQueue();
    const p = processor(
      {
        keyDeserializer: () => {
          throw new Error('bad key');
        },
      },
      queue,
    );
    await p.process(buildKafkaEvent(records('t', 0, [{}])), lambdaContext());
    expect(queue.sent[0]!.error).toMatchObject({ type: 'DeserializationError', message: 'Cannot deserialize the key of t-0@0: bad key' });
  });

  it('logs the type of error processBatch threw (not its message, which may quote a record) before isolating the records', async () => {
    const lines = captureOutput();
    const p = processor({
      processRecord: undefined,
      processBatch: (rs: KafkaRecord[]) => {
        if (rs.length > 1) throw new Error('constraint violation');
      },
    });
    await p.process(buildKafkaEvent(records('t', 0, [{}, {}])), lambdaContext());
    expect(lines.find((l) => String(l.message).startsWith('processBatch failed'))).toMatchObject({
      level: 'WARN',
      message: 'processBatch failed; processing the records one at a time to isolate the failures',
      errorType: 'Error',
    });
    expect(JSON.stringify(lines)).not.toContain('constraint violation');
    const thrownNothing = processor({
      processRecord: undefined,
      processBatch: (rs: KafkaRecord[]) => {
        if (rs.length > 1) throw undefined;
      },
    });
    expect(await thrownNothing.process(buildKafkaEvent(records('t', 0, [{}, {}])), lambdaContext())).toEqual({ batchItemFailures: [] });
  });
});
