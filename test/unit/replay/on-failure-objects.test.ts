// The replay's S3 source: the objects an S3 on-failure destination holds (Lambda guide,
// "Capturing discarded batches for an Amazon MSK event source", S3 destination example
// invocation record: the SQS/SNS metadata plus `payload`, "the original invocation record as an
// escaped JSON string"), parsed and replayed against a faked S3 client and producer.
import type { Producer, ProducerBatch } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../../src/kafka/kafka-headers.js';
import { OnFailureObjectReplayer, parseOnFailureObject } from '../../../src/replay/on-failure-objects.js';
import type { ReplaySettings } from '../../../src/replay/request.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { buildKafkaEvent, type BrokerRecord } from '../../../local/esm/lambda-event.js';
import { fakeAws, type Call } from '../../support/fake-aws.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const BUCKET = 'failures';
/** An on-failure object as Lambda writes it: metadata (abridged) and the invocation event as a JSON string. */
const objectOf = (records: BrokerRecord[]) =>
  JSON.stringify({
    requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
    version: '1.0',
    KafkaBatchInfo: { batchSize: records.length },
    payload: JSON.stringify(buildKafkaEvent(records)),
  });
const withPayload = (payload: unknown) =>
  JSON.stringify({ version: '1.0', payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
const record = (offset: number, extra: Partial<BrokerRecord> = {}): BrokerRecord => ({
  topic: 't',
  partition: 0,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  key: `k${offset}`,
  value: `v${offset}`,
  ...extra,
});

/** A producer that records what it was asked to send; `fail` makes every send throw. */
function fakeProducer(fail?: Error) {
  const batches: ProducerBatch[] = [];
  const producer = {
    sendBatch: async (batch: ProducerBatch) => {
      if (fail) throw fail;
      batches.push(batch);
      return [];
    },
  } as unknown as Producer;
  return { batches, connect: async () => producer };
}

/** S3 holding these objects (by key under aws/lambda/), listed in key order, `pageSize` keys a page. */
async function bucketOf(objects: Record<string, string>, answer: (call: Call) => unknown = () => undefined, pageSize = 1_000) {
  const keys = Object.keys(objects).sort();
  const stored = Object.fromEntries(Object.entries(objects).map(([key, body]) => [`${BUCKET}/${key}`, body]));
  return fakeAws([], stored, (call) => {
    const scripted = answer(call);
    if (scripted !== undefined || call.name !== 'ListObjectsV2') return scripted;
    const after = call.input.StartAfter as string | undefined;
    const from = call.input.ContinuationToken ? Number(call.input.ContinuationToken) : after ? keys.filter((k) => k <= after).length : 0;
    const page = keys.slice(from, from + Math.min(pageSize, call.input.MaxKeys as number));
    const next = from + page.length;
    return {
      Contents: page.map((Key) => ({ Key })),
      IsTruncated: next < keys.length,
      ...(next < keys.length ? { NextContinuationToken: String(next) } : {}),
    };
  });
}

const settings = (s: Partial<ReplaySettings> = {}): ReplaySettings => ({
  source: 's3',
  maxMessages: 100,
  dryRun: false,
  filter: {},
  allowedTopics: ['t', 'other', 'retry-topic'],
  ...s,
});
const noDelay = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 });
const replayer = (producer = fakeProducer(), replayLimit = 3) =>
  new OnFailureObjectReplayer({ bucket: BUCKET, producer: producer.connect, replayLimit, retry: noDelay });
const later = () => Date.now() + 60_000;
const key = (n: number) => `aws/lambda/uuid/t-0/2025/01/01/2025-01-01T00.00.0${n}-id`;
const sent = (producer: ReturnType<typeof fakeProducer>) =>
  producer.batches.flatMap((b) =>
    b.topicMessages!.flatMap((t) => t.messages.map((m) => [t.topic, m.partition, String(m.key), String(m.value)])),
  );

describe('parseOnFailureObject', () => {
  it('returns every record of the payload in order, with key, value and headers as base64 and the replay count from its header', () => {
    const records = parseOnFailureObject(
      objectOf([
        record(4, {
          headers: [
            ['b', Buffer.from([0, 255])],
            ['a', 'x'],
            ['b', 'again'],
            ['x-dlq-replay-count', '2'],
          ],
        }),
        record(5, { key: null, value: null }),
        record(0, { partition: 1 }),
      ]),
    );
    expect(records.map((r) => [r.record.topic, r.record.partition, r.record.offset, r.replayCount])).toEqual([
      ['t', 0, 4, 2],
      ['t', 0, 5, 0],
      ['t', 1, 0, 0],
    ]);
    expect(records[0]!.record).toMatchObject({
      key: Buffer.from('k4').toString('base64'),
      value: Buffer.from('v4').toString('base64'),
      timestamp: 1_700_000_000_004,
    });
    expect(records[0]!.record.headers).toEqual([
      { name: 'b', value: Buffer.from([0, 255]).toString('base64') },
      { name: 'a', value: Buffer.from('x').toString('base64') },
      { name: 'b', value: Buffer.from('again').toString('base64') },
      { name: 'x-dlq-replay-count', value: Buffer.from('2').toString('base64') },
    ]);
    expect(records[1]!.record).toMatchObject({ key: null, value: null });
  });

  it('names what is wrong with an object that is not an on-failure record', () => {
    const event = buildKafkaEvent([record(0)]);
    const fails = (body: string, message: unknown) =>
      expect(() => parseOnFailureObject(body)).toThrow(expect.objectContaining({ name: 'MalformedOnFailureObjectError', message }));
    fails('not json', 'the object is not JSON');
    const noPayload = '"payload" must be the invocation event as a JSON string, as Lambda writes it to an S3 on-failure destination';
    fails('null', noPayload);
    fails('[]', noPayload);
    fails(JSON.stringify({ version: '1.0' }), noPayload);
    fails(JSON.stringify({ payload: event }), noPayload); // an object, not the escaped string Lambda writes
    fails(withPayload('{"records":'), '"payload" is not JSON');
    fails(
      withPayload({ ...event, eventSource: 'aws:sqs' }),
      expect.stringContaining('"payload": Invalid Kafka event: eventSource is "aws:sqs"'),
    );
    fails(withPayload({ ...event, records: {} }), '"payload" holds no records');
    const [r] = event.records['t-0']!;
    fails(
      withPayload({ ...event, records: { 't-0': [{ ...r, value: 'no base64!' }] } }),
      expect.stringContaining('The value of t-0@0 is not valid base64'),
    );
    fails(
      withPayload({ ...event, records: { 't-0': [{ ...r, key: 'a' }] } }),
      expect.stringContaining('The key of t-0@0 is not valid base64'),
    );
    fails(
      withPayload({ ...event, records: { 't-0': [{ ...r, headers: [{ h: 'text' }] }] } }),
      expect.stringMatching(/^Invalid Kafka event: header 0 of t-0@0 .*is not a list of bytes from -128 to 255/),
    );
    // -128..255: Lambda writes Java signed bytes, the local emulator unsigned ones (issue 28, class 3).
    for (const headers of [[{ h: [256] }], [{ h: [-129] }], [{ h: [1.5] }], [{ h: [1, 300] }], [{ h: [1], g: 'text' }], [null], ['h']]) {
      fails(
        withPayload({ ...event, records: { 't-0': [{ ...r, headers }] } }),
        expect.stringContaining('Invalid Kafka event: header 0 of t-0@0'),
      );
    }
    fails(
      withPayload({ ...event, records: { 't-0': [{ ...r, headers: { h: [1] } }] } }),
      expect.stringContaining('records["t-0"][0].headers must be an array of {name: [bytes]} objects'),
    );
  });
});

describe('OnFailureObjectReplayer', () => {
  it("lists under aws/lambda/, produces each object's records to their partitions with acks from all replicas, then deletes the object", async () => {
    const aws = await bucketOf({ [key(1)]: objectOf([record(0), record(1)]), [key(2)]: objectOf([record(2, { partition: 1 })]) });
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings(), later());
    expect(summary).toEqual({
      received: 3,
      replayed: 3,
      skipped: 0,
      failed: 0,
      dryRun: false,
      objects: { received: 2, replayed: 2, skipped: 0, failed: 0, lastKey: key(2) },
      errors: [],
    });
    expect(aws.named('ListObjectsV2')[0]).toEqual({ Bucket: BUCKET, Prefix: 'aws/lambda/', MaxKeys: 100 });
    expect(producer.batches.map((b) => b.acks)).toEqual([-1, -1]); // one sendBatch per object
    expect(sent(producer)).toEqual([
      ['t', 0, 'k0', 'v0'],
      ['t', 0, 'k1', 'v1'],
      ['t', 1, 'k2', 'v2'],
    ]);
    const [first] = producer.batches[0]!.topicMessages![0]!.messages;
    expect(first!.orderedHeaders!.map((h) => [h.key, String(h.value)])).toEqual([
      ['x-dlq-replay-count', '1'],
      ['x-dlq-original-topic', 't'],
      ['x-dlq-original-offset', '0'],
      ['x-dlq-original-partition', '0'],
      ['x-dlq-original-timestamp', '1700000000000'],
    ]);
    // Each object deleted after its own produce, never before.
    expect(aws.calls.filter((c) => c.name !== 'ListObjectsV2').map((c) => [c.name, c.input.Key])).toEqual([
      ['GetObject', key(1)],
      ['DeleteObject', key(1)],
      ['GetObject', key(2)],
      ['DeleteObject', key(2)],
    ]);
    expect(aws.named('DeleteObject')[0]).toEqual({ Bucket: BUCKET, Key: key(1) });
  });

  it('replays to targetTopic, letting the producer choose partitions there', async () => {
    await bucketOf({ [key(1)]: objectOf([record(0, { partition: 3 })]) });
    const producer = fakeProducer();
    await replayer(producer).run(settings({ targetTopic: 'other' }), later());
    expect(sent(producer)).toEqual([['other', undefined, 'k0', 'v0']]);
  });

  it('reads maxMessages objects at most, page by page', async () => {
    const aws = await bucketOf(Object.fromEntries([1, 2, 3, 4, 5].map((n) => [key(n), objectOf([record(n)])])), undefined, 2);
    const summary = await replayer().run(settings({ maxMessages: 3 }), later());
    expect(summary.objects).toEqual({ received: 3, replayed: 3, skipped: 0, failed: 0, lastKey: key(3) });
    expect(aws.named('ListObjectsV2').map((l) => [l.MaxKeys, l.ContinuationToken])).toEqual([
      [3, undefined],
      [1, '2'],
    ]);
    expect(aws.named('DeleteObject').map((d) => d.Key)).toEqual([key(1), key(2), key(3)]);
  });

  it('leaves a malformed object in place and reports it with its key', async () => {
    const aws = await bucketOf({ [key(1)]: '{"payload": 5}', [key(2)]: objectOf([record(0)]) });
    const summary = await replayer().run(settings(), later());
    expect(summary).toMatchObject({ received: 1, replayed: 1, failed: 0, objects: { received: 2, replayed: 1, skipped: 0, failed: 1 } });
    expect(summary.errors).toEqual([
      {
        objectKey: key(1),
        reason:
          'malformed on-failure object: "payload" must be the invocation event as a JSON string, as Lambda writes it to an S3 on-failure destination; left in the bucket',
      },
    ]);
    expect(aws.named('DeleteObject').map((d) => d.Key)).toEqual([key(2)]);
  });

  it('leaves an object it could not read, saying so', async () => {
    const aws = await bucketOf({ [key(1)]: objectOf([record(0)]) }, (call) => {
      if (call.name === 'GetObject') throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    });
    const summary = await replayer().run(settings(), later());
    expect(summary.errors).toEqual([{ objectKey: key(1), reason: 'could not be read from S3: Access Denied; left in the bucket' }]);
    expect(summary.objects).toMatchObject({ failed: 1 });
    expect(aws.named('DeleteObject')).toEqual([]);
  });

  it('leaves an object whole when one of its records reached the replay limit, and one of another topic than filter.topic', async () => {
    const aws = await bucketOf({
      [key(1)]: objectOf([record(0), record(1, { headers: [['x-dlq-replay-count', '3']] })]),
      [key(2)]: objectOf([record(2, { topic: 'other' })]),
      [key(3)]: objectOf([record(3, { headers: [['x-dlq-replay-count', '2']] })]),
    });
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings({ filter: { topic: 't' } }), later());
    expect(summary).toMatchObject({
      received: 4,
      replayed: 1,
      skipped: 3,
      failed: 0,
      objects: { received: 3, replayed: 1, skipped: 2, failed: 0 },
    });
    expect(summary.errors).toEqual([
      {
        objectKey: key(1),
        topic: 't',
        partition: 0,
        offset: 1,
        reason: 'a record replayed 3 times already (limit 3); its object is replayed whole or not at all, so it stays in the bucket',
      },
    ]);
    expect(sent(producer)).toEqual([['t', 0, 'k3', 'v3']]);
    const [replayed] = producer.batches[0]!.topicMessages![0]!.messages;
    expect(replayed!.orderedHeaders!.filter((h) => h.key === 'x-dlq-replay-count').map((h) => String(h.value))).toEqual(['3']); // counted on, not duplicated
    expect(aws.named('DeleteObject').map((d) => d.Key)).toEqual([key(3)]);
  });

  it('in a dry run reads and validates, but produces and deletes nothing', async () => {
    const aws = await bucketOf({ [key(1)]: objectOf([record(0), record(1)]) });
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings({ dryRun: true }), later());
    expect(summary).toEqual({
      received: 2,
      replayed: 2,
      skipped: 0,
      failed: 0,
      dryRun: true,
      objects: { received: 1, replayed: 1, skipped: 0, failed: 0, lastKey: key(1) },
      errors: [],
      contents: expect.objectContaining({ byTopic: { t: 2 }, byErrorType: { RetryAttemptsExhausted: 2 } }),
    });
    expect(producer.batches).toEqual([]);
    expect(aws.named('DeleteObject')).toEqual([]);
  });

  it('keeps an object whose records Kafka did not acknowledge', async () => {
    const aws = await bucketOf({ [key(1)]: objectOf([record(0), record(1)]) });
    const summary = await replayer(fakeProducer(new Error('broker down'))).run(settings(), later());
    expect(summary).toMatchObject({ received: 2, replayed: 0, failed: 2, objects: { failed: 1 } });
    expect(summary.errors).toEqual([
      {
        objectKey: key(1),
        reason: 'produce failed, left in the bucket (records of it that were written will be replayed again with it): broker down',
      },
    ]);
    expect(aws.named('DeleteObject')).toEqual([]);
  });

  it('retries a failed DeleteObject and reports one that failed for good as replayed but not deleted', async () => {
    let deletes = 0;
    await bucketOf({ [key(1)]: objectOf([record(0)]), [key(2)]: objectOf([record(1)]) }, (call) => {
      if (call.name !== 'DeleteObject') return undefined;
      deletes++;
      if (deletes === 1 || call.input.Key === key(2)) throw Object.assign(new Error('Slow Down'), { name: 'SlowDown' });
      return {};
    });
    const summary = await replayer().run(settings(), later());
    expect(summary).toMatchObject({ replayed: 2, objects: { replayed: 1, failed: 1 } });
    expect(summary.errors).toEqual([
      { objectKey: key(2), reason: 'replayed, but not deleted from the bucket (it may be replayed again): Slow Down' },
    ]);
    expect(deletes).toBe(2 + 3);
  });

  it('starts no object at or after its deadline', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const aws = await bucketOf({ [key(1)]: objectOf([record(0)]), [key(2)]: objectOf([record(1)]) }, (call) => {
      if (call.name === 'DeleteObject') vi.setSystemTime(10_000); // the first object took until the deadline
    });
    const summary = await replayer().run(settings(), 10_000);
    expect(summary.objects).toEqual({ received: 1, replayed: 1, skipped: 0, failed: 0, lastKey: key(1) });
    expect(aws.named('GetObject').map((g) => g.Key)).toEqual([key(1)]);
  });
});

// Issue 28: the S3 source fed what an attacker with write access under aws/lambda/ (the consumer's
// own role has it), or Lambda itself, can put there.
describe('OnFailureObjectReplayer and hostile or odd objects', () => {
  // Class 1: REPLAY_ALLOWED_TOPICS was checked against targetTopic only.
  it('leaves an object holding a record of a topic outside the allowlist, naming the topic, and replays the others', async () => {
    const aws = await bucketOf({
      [key(1)]: objectOf([record(0), record(1, { topic: 'payments-internal', partition: 3 })]),
      [key(2)]: objectOf([record(2)]),
    });
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings({ allowedTopics: ['t'] }), later());
    expect(summary).toMatchObject({ received: 3, replayed: 1, failed: 2, objects: { received: 2, replayed: 1, failed: 1 } });
    expect(summary.errors).toEqual([
      {
        objectKey: key(1),
        topic: 'payments-internal',
        partition: 3,
        offset: 1,
        reason:
          'its topic "payments-internal" is not one this replay may produce to (REPLAY_ALLOWED_TOPICS: t); its object is replayed whole or not at all, so it stays in the bucket',
      },
    ]);
    expect(sent(producer)).toEqual([['t', 0, 'k2', 'v2']]);
    expect(aws.named('DeleteObject').map((d) => d.Key)).toEqual([key(2)]);
  });

  // Class 3: Lambda writes header bytes as Java signed bytes; the reader took 0..255 only.
  it('replays header bytes Lambda wrote as Java signed bytes (-128..127) as the original bytes', async () => {
    const event = buildKafkaEvent([record(0)]);
    event.records['t-0']![0]!.headers = [{ name: [-61, -85] }, { raw: [0, 127, -128, -1, 255] }];
    await bucketOf({ [key(1)]: withPayload(event) });
    const producer = fakeProducer();
    expect(await replayer(producer).run(settings(), later())).toMatchObject({ replayed: 1, failed: 0 });
    const headers = producer.batches[0]!.topicMessages![0]!.messages[0]!.orderedHeaders!;
    expect(headers.slice(0, 2).map((h) => [h.key, [...h.value!]])).toEqual([
      ['name', [0xc3, 0xab]],
      ['raw', [0, 127, 128, 255, 255]],
    ]);
    expect(String(headers[0]!.value)).toBe('ë');
  });

  // Class 8: every run listed from the first key, so objects left at the head stalled it.
  it('lists after startAfter, and reports the last key it read to go on from', async () => {
    const aws = await bucketOf(Object.fromEntries([1, 2, 3, 4].map((n) => [key(n), objectOf([record(n)])])));
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings({ startAfter: key(2), maxMessages: 1 }), later());
    expect(aws.named('ListObjectsV2')[0]).toMatchObject({ StartAfter: key(2) });
    expect(sent(producer)).toEqual([['t', 0, 'k3', 'v3']]);
    expect(summary.objects).toMatchObject({ received: 1, lastKey: key(3) });
  });

  it('retries a throttled listing, and answers with what it did when the listing fails for good', async () => {
    let lists = 0;
    await bucketOf({ [key(1)]: objectOf([record(0)]) }, (call) => {
      if (call.name === 'ListObjectsV2' && ++lists <= 1)
        throw Object.assign(new Error('Slow Down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    });
    expect(await replayer().run(settings(), later())).toMatchObject({ replayed: 1, errors: [] });
    await bucketOf({}, (call) => {
      if (call.name === 'ListObjectsV2')
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    });
    expect(await replayer().run(settings(), later())).toMatchObject({
      received: 0,
      errors: [{ reason: 'listing the bucket failed: Access Denied; the objects not reached stay in the bucket' }],
    });
  });

  it('leaves an object holding a record of another topic than filter.topic, even beside records of it', async () => {
    const aws = await bucketOf({ [key(1)]: objectOf([record(0), record(1, { topic: 'other' })]) });
    const producer = fakeProducer();
    expect(await replayer(producer).run(settings({ filter: { topic: 't' } }), later())).toMatchObject({
      skipped: 2,
      objects: { skipped: 1 },
    });
    expect(producer.batches).toEqual([]);
    expect(aws.named('DeleteObject')).toEqual([]);
  });

  it('names every failed produce call of an object in its reason', async () => {
    await bucketOf({ [key(1)]: objectOf([record(0), record(1, { partition: 1 })]) });
    const producer = {
      sendBatch: async (batch: ProducerBatch) => {
        throw new Error(`partition ${batch.topicMessages![0]!.messages[0]!.partition} down`);
      },
    } as unknown as Producer;
    const summary = await new OnFailureObjectReplayer({
      bucket: BUCKET,
      producer: async () => producer,
      replayLimit: 3,
      retry: noDelay,
    }).run(settings(), later());
    expect(summary.errors).toEqual([
      {
        objectKey: key(1),
        reason:
          'produce failed, left in the bucket (records of it that were written will be replayed again with it): partition 0 down; partition 1 down',
      },
    ]);
  });
});
