// kafkaConsumer in failureMode 'park-key', over the in-memory parked-key table and dead-letter
// transport: each decision (run, park, dead-letter and park, release copy, keyless, unreachable
// table or bucket). The DynamoDB store itself runs on the local dynalite in test/e2e/park-key.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeParkedKeyStore } from '../../../support/fake-parked-key-store.js';
import { fakeTransport } from '../../../support/dead-letter-transport.js';
import { buildKafkaEvent, type BrokerRecord } from '../../../support/kafka-event.js';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';
import { captureOutput } from '../../../support/output.js';
import type { DeadLetterEnvelope } from '../../../../src/runtime/envelope.js';
import { registerTracing, traceparent } from '../../../support/tracing.js';

let store = new FakeParkedKeyStore();
vi.mock('../../../../src/runtime/parking/parked-key-store.js', () => ({
  DynamoDbParkedKeyStore: class {
    constructor() {
      return store;
    }
  },
}));
const { kafkaConsumer, ConfigurationError } = await import('../../../../src/runtime/index.js');
const { keyHashOf, parkedKeyItemId } = await import('../../../../src/runtime/parking/parked-key-names.js');

const GROUP = 'app';
const itemOf = (key: string, partition = 0) =>
  parkedKeyItemId({ group: `${GROUP}-t`, topic: 't', partition, keyHash: keyHashOf(Buffer.from(key).toString('base64')) });

beforeEach(() => {
  store = new FakeParkedKeyStore();
  vi.stubEnv('PARKED_KEYS_TABLE', 'parked');
  vi.stubEnv('KAFKA_CONSUMER_GROUP', GROUP);
  captureOutput();
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

type Rec = { offset: number; key: string | null; fail?: boolean; headers?: BrokerRecord['headers'] };
const event = (records: Rec[]) =>
  buildKafkaEvent(
    records.map((r) => ({
      topic: 't',
      partition: 0,
      offset: r.offset,
      key: r.key,
      value: JSON.stringify({ offset: r.offset, fail: r.fail ?? false }),
      ...(r.headers ? { headers: r.headers } : {}),
    })),
  );

function consumer(options: { ordering?: 'partition' | 'key'; put?: (call: number, key: string) => void } = {}) {
  const dlq = fakeTransport(() => [], options.put);
  const ran: number[] = [];
  const handler = kafkaConsumer<{ offset: number; fail: boolean }>({
    failureMode: 'park-key',
    deadLetterQueueUrl: 'https://sqs/dlq',
    deadLetterBucket: 'bucket',
    deadLetterTransport: dlq.transport,
    retry: { maxAttempts: 1 },
    ...(options.ordering ? { ordering: options.ordering } : {}),
    processRecord: (record) => {
      ran.push(record.value.offset);
      if (record.value.fail) throw new Error('bad record');
    },
  });
  const invoke = (records: Rec[]) => handler(event(records), lambdaContext(30_000, 'consumer'));
  return { invoke, ran, dlq };
}

const parkedObjects = (dlq: ReturnType<typeof fakeTransport>) => dlq.puts.filter((p) => p.key.startsWith('parked/'));

describe("failureMode 'park-key'", () => {
  it('refuses to start without its table, queue or bucket, naming each', () => {
    vi.stubEnv('PARKED_KEYS_TABLE', '');
    vi.stubEnv('DLQ_URL', '');
    vi.stubEnv('DLQ_BUCKET', '');
    const build = () => kafkaConsumer({ failureMode: 'park-key', processRecord: () => undefined });
    expect(build).toThrow(ConfigurationError);
    expect(build).toThrow(/PARKED_KEYS_TABLE .*, DLQ_URL or deadLetterQueueUrl .*, DLQ_BUCKET or deadLetterBucket .* are not set/);
  });

  it('dead-letters a failed record with its key parked behind it, parks the later records of that key unrun, lets other keys flow', async () => {
    const { invoke, ran, dlq } = consumer();
    const response = await invoke([
      { offset: 0, key: 'a' },
      { offset: 1, key: 'a', fail: true },
      { offset: 2, key: 'b' },
      { offset: 3, key: 'a' },
      { offset: 4, key: 'b' },
      { offset: 5, key: 'a' },
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(ran).toEqual([0, 1, 2, 4]);
    const [deadLetter] = dlq.accepted;
    expect(deadLetter!.record.offset).toBe(1);
    const item = store.items.get(itemOf('a'))!;
    expect(deadLetter!.parked).toEqual({ epoch: item.epoch });
    expect(item).toMatchObject({ head: 1, last: 5, count: 2 });
    const objects = parkedObjects(dlq);
    const folder = `parked/${GROUP}-t/t/0/${keyHashOf(Buffer.from('a').toString('base64'))}/`;
    expect(objects.map((o) => o.key)).toEqual([`${folder}00000000000000000003.json`, `${folder}00000000000000000005.json`]);
    const parked = JSON.parse(objects[0]!.body) as DeadLetterEnvelope;
    expect(parked.record.offset).toBe(3);
    expect(parked.error.type).toBe('KeyParkedError');
    expect(parked.parked).toBeUndefined();
  });

  it("with tracing on, keeps each record's own trace context in its dead letter and in its parked envelope, and says parked on its span", async () => {
    const tracing = registerTracing();
    try {
      const { invoke, dlq } = consumer();
      const [failed, parked] = ['1', '2'].map((n) => traceparent(n.repeat(32), n.repeat(16)));
      await invoke([
        { offset: 0, key: 'a', fail: true, headers: [['traceparent', failed!]] },
        { offset: 1, key: 'a', headers: [['traceparent', parked!]] },
      ]);
      const spanOf = (offset: number) => tracing.spans().find((s) => s.attributes['messaging.kafka.offset'] === offset)!;
      expect(spanOf(0).attributes['kafka_consumers.outcome']).toBe('dead-lettered');
      expect(spanOf(1).attributes).toMatchObject({ 'kafka_consumers.outcome': 'parked', 'kafka_consumers.attempts': 0 });
      expect(dlq.accepted[0]!.trace?.record).toEqual({ traceparent: failed });
      const envelope = JSON.parse(parkedObjects(dlq)[0]!.body) as DeadLetterEnvelope;
      const { traceId, spanId } = spanOf(1).spanContext();
      expect(envelope.trace).toEqual({ record: { traceparent: parked }, failure: { traceparent: `00-${traceId}-${spanId}-01` } });
    } finally {
      tracing.unregister();
    }
  });

  it('keeps the key parked in later invocations: its records are parked, other keys run', async () => {
    const { invoke, ran, dlq } = consumer({ ordering: 'key' });
    await invoke([{ offset: 1, key: 'a', fail: true }]);
    await invoke([
      { offset: 2, key: 'a' },
      { offset: 3, key: 'b' },
    ]);
    expect(ran).toEqual([1, 3]);
    expect(parkedObjects(dlq).map((o) => o.key.slice(-25))).toEqual(['00000000000000000002.json']);
    expect(store.items.get(itemOf('a'))).toMatchObject({ head: 1, last: 2, count: 1 });
  });

  it("runs a release copy carrying the key's current epoch, and parks a copy of another epoch", async () => {
    const { invoke, ran } = consumer();
    await invoke([{ offset: 1, key: 'a', fail: true }]);
    const { epoch } = store.items.get(itemOf('a'))!;
    await invoke([
      { offset: 10, key: 'a', headers: [['x-dlq-park-epoch', String(epoch)]] },
      { offset: 11, key: 'a', headers: [['x-dlq-park-epoch', String(epoch - 1)]] },
    ]);
    expect(ran).toEqual([1, 10]);
    expect(store.items.get(itemOf('a'))).toMatchObject({ epoch, last: 11 });
  });

  it('parks the key anew (epoch + 1) behind a release copy that fails for good, so the later copies wait behind it', async () => {
    const { invoke, ran, dlq } = consumer();
    await invoke([{ offset: 1, key: 'a', fail: true }]);
    const { epoch } = store.items.get(itemOf('a'))!;
    const copy = (offset: number, fail = false) => ({
      offset,
      key: 'a',
      fail,
      headers: [['x-dlq-park-epoch', String(epoch)]] as [string, string][],
    });
    await invoke([copy(10, true), copy(11)]);
    expect(ran).toEqual([1, 10]);
    expect(store.items.get(itemOf('a'))).toMatchObject({ epoch: epoch + 1, head: 10, since: 1, last: 11, count: 1 });
    expect(dlq.accepted.map((e) => [e.record.offset, e.parked])).toEqual([
      [1, { epoch }],
      [10, { epoch: epoch + 1 }],
    ]);
  });

  it('dead-letters a record without a key as today, parking nothing', async () => {
    const { invoke, ran, dlq } = consumer();
    await invoke([
      { offset: 0, key: null, fail: true },
      { offset: 1, key: null },
    ]);
    expect(ran).toEqual([0, 1]);
    expect(dlq.accepted[0]!.parked).toBeUndefined();
    expect(store.items.size).toBe(0);
    expect(store.calls).toEqual([]);
  });

  it('dead-letters the record a key is parked behind again, unrun, when it is delivered again', async () => {
    const { invoke, ran, dlq } = consumer();
    await invoke([{ offset: 1, key: 'a', fail: true }]);
    await invoke([{ offset: 1, key: 'a', fail: true }]);
    expect(ran).toEqual([1]);
    expect(dlq.accepted.map((e) => [e.record.offset, e.error.type])).toEqual([
      [1, 'Error'],
      [1, 'KeyParkedError'],
    ]);
  });

  it('redelivers the partition, running nothing, when the parked keys cannot be read', async () => {
    const { invoke, ran } = consumer();
    store.fail('read');
    const response = await invoke([
      { offset: 4, key: 'a' },
      { offset: 5, key: 'b' },
    ]);
    expect(ran).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 4 } }]);
  });

  it('redelivers the partition from a failed record whose key cannot be parked: nothing dead-lettered, nothing after it run', async () => {
    const { invoke, ran, dlq } = consumer();
    store.fail('park');
    const response = await invoke([
      { offset: 1, key: 'a', fail: true },
      { offset: 2, key: 'b' },
    ]);
    expect(ran).toEqual([1]);
    expect(dlq.accepted).toEqual([]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 1 } }]);
  });

  it('redelivers the partition from a record of a parked key that the bucket (or the table) does not take', async () => {
    for (const broken of ['bucket', 'table'] as const) {
      store = new FakeParkedKeyStore();
      const put = (_call: number, key: string) => {
        if (broken === 'bucket' && key.startsWith('parked/'))
          throw Object.assign(new Error('AccessDenied'), { $metadata: { httpStatusCode: 403 } });
      };
      const { invoke, ran } = consumer({ put });
      if (broken === 'table') store.fail('append');
      const response = await invoke([
        { offset: 1, key: 'a', fail: true },
        { offset: 2, key: 'a' },
        { offset: 3, key: 'b' },
      ]);
      expect(ran).toEqual([1]);
      expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 2 } }]);
      store.heal();
    }
  });
});

describe("failureMode 'park-key', records delivered again", () => {
  it('dead-letters a record before the one its key is parked behind without `parked`, leaving the key as it is', async () => {
    const { invoke, ran, dlq } = consumer();
    await invoke([{ offset: 3, key: 'a', fail: true }]);
    const before = store.items.get(itemOf('a'));
    await invoke([{ offset: 2, key: 'a', fail: true }]);
    expect(ran).toEqual([3, 2]);
    expect(dlq.accepted.map((e) => [e.record.offset, e.parked?.epoch])).toEqual([
      [3, before!.epoch],
      [2, undefined],
    ]);
    expect(store.items.get(itemOf('a'))).toEqual(before);
  });
});

describe("failureMode 'park-key' with processBatch", () => {
  it('runs the batch whole while no key is parked, and one record at a time once one is, holding its records', async () => {
    const dlq = fakeTransport();
    const calls: number[][] = [];
    const handler = kafkaConsumer<{ offset: number; fail: boolean }>({
      failureMode: 'park-key',
      deadLetterQueueUrl: 'https://sqs/dlq',
      deadLetterBucket: 'bucket',
      deadLetterTransport: dlq.transport,
      retry: { maxAttempts: 1 },
      processBatch: (records) => {
        calls.push(records.map((r) => r.value.offset));
        if (records.some((r) => r.value.fail)) throw new Error('bad record');
      },
    });
    const invoke = (records: Rec[]) => handler(event(records), lambdaContext(30_000, 'consumer'));
    await invoke([
      { offset: 0, key: 'a' },
      { offset: 1, key: 'a', fail: true },
      { offset: 2, key: 'a' },
      { offset: 3, key: 'b' },
    ]);
    expect(calls).toEqual([[0, 1, 2, 3], [0], [1], [3]]);
    calls.length = 0;
    await invoke([
      { offset: 4, key: 'a' },
      { offset: 5, key: 'b' },
    ]);
    // A record to hold: no whole-batch call, which would run it.
    expect(calls).toEqual([[5]]);
    expect(parkedObjects(dlq).map((o) => o.key.slice(-7))).toEqual(['02.json', '04.json']);
  });
});
