import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildKafkaEvent, type BrokerRecord } from '../../local/esm/lambda-event.js';
import type { DeadLetterEnvelope, DeadLetterPointer } from '../../src/runtime/envelope.js';
import { invoke } from '../support/invoke.js';
import { drain, freshQueue, queueDepth, sqsClient } from '../support/sqs.js';
import { produce, readTopic, topicRecordCount, uniqueTopic, type ConsumedRecord } from '../support/kafka.js';
import { startFaultProxy } from '../../local/fault-proxy.js';
import { kcatConsume } from '../support/kcat.js';
import { headersInOrder } from '../../src/kafka/kafka-headers.js';
import { closedPort } from '../support/net.js';

const env = inject('localEnv');
const sqs = sqsClient(env);
/** A topic of the test's own, created (4 partitions, by auto-creation) with one seed record before anything is replayed to it. */
async function newTopic() {
  const topic = uniqueTopic('replay');
  await produce(env.KAFKA_BROKERS, topic, [{ value: 'seed', partition: 3 }]);
  return topic;
}
const replayedRecords = async (topic: string, count: number) =>
  (await readTopic(env.KAFKA_BROKERS, topic, count + 1)).filter((r) => r.message.headers?.['x-dlq-original-offset']);
/** Records on a topic besides its seed; read from the brokers' watermarks, which the replay's acknowledged produce has already moved. */
const producedTo = async (topic: string) => (await topicRecordCount(env.KAFKA_BROKERS, topic)) - 1;
const replayEnv = (queueUrl: string, topics: string[]) => ({
  ...env,
  DLQ_URL: queueUrl,
  REPLAY_ALLOWED_TOPICS: topics.join(','),
  KAFKA_IDEMPOTENT_PRODUCER: 'false',
});
const replaySummary = (result: { response?: unknown }) =>
  result.response as { received: number; replayed: number; skipped: number; failed: number; errors: Array<{ reason: string }> };

/** Dead-letters these records through the real consumer, into a fresh queue. */
async function deadLetter(records: BrokerRecord[]) {
  const queue = await freshQueue(sqs, 'replay');
  const { result } = await invoke('consumer', buildKafkaEvent(records), { ...env, DLQ_URL: queue.url });
  expect(result.deadLetters).toHaveLength(records.length);
  return queue;
}
const failing = (topic: string, offset: number, extra: Partial<BrokerRecord> = {}): BrokerRecord => ({
  topic,
  partition: offset % 2,
  offset,
  timestamp: 1_700_000_000_000 + offset,
  key: `key-${offset}`,
  value: JSON.stringify({ id: offset, simulate: 'permanent-failure' }),
  ...extra,
});
/** A record read back from the topic, as the mapping would hand it to the consumer again. */
const asDelivered = (topic: string, { partition, offset, message }: ConsumedRecord): BrokerRecord => ({
  topic,
  partition,
  offset,
  timestamp: Number(message.timestamp),
  key: message.key,
  value: message.value,
  headers: Object.entries(message.headers ?? {}).flatMap(([name, value]) =>
    (Array.isArray(value) ? value : [value]).map((v) => [name, v!] as const),
  ),
});

describe('DLQ replay against the embedded broker and SQS/S3', () => {
  it('puts dead-lettered records back on their topic byte for byte, headers in order included, with the codec asked for, then empties the queue', async () => {
    const topic = await newTopic();
    const records = [
      failing(topic, 0, {
        headers: [
          ['bin', Buffer.from([0, 255])],
          ['other', 'x'],
          ['bin', 'again'],
        ],
      }),
      failing(topic, 1, { key: null }),
      failing(topic, 2),
    ];
    const queue = await deadLetter(records);
    const replayStarted = Date.now();
    const { result } = await invoke('replay', {}, { ...replayEnv(queue.url, [topic]), KAFKA_COMPRESSION: 'zstd' });
    expect(result.response).toEqual({ received: 3, replayed: 3, skipped: 0, failed: 0, dryRun: false, errors: [] });
    expect(kcatConsume(env.KAFKA_BROKERS, topic).codecs).toContain('zstd');

    const back = await replayedRecords(topic, 3);
    expect(back).toHaveLength(3);
    for (const original of records) {
      const replayed = back.find((r) => r.message.headers!['x-dlq-original-offset']!.toString() === String(original.offset))!;
      expect(replayed.partition).toBe(original.partition);
      expect(replayed.message.key?.toString() ?? null).toBe(original.key);
      expect(replayed.message.value!.toString()).toBe(original.value);
      expect(Number(replayed.message.timestamp)).toBeGreaterThanOrEqual(replayStarted); // fresh: maxRecordAge counts from the replay
      expect(replayed.message.headers!['x-dlq-original-timestamp']!.toString()).toBe(String(original.timestamp));
      expect(replayed.message.headers!['x-dlq-replay-count']!.toString()).toBe('1');
      expect(replayed.message.headers!['x-dlq-original-partition']!.toString()).toBe(String(original.partition));
    }
    const first = back.find((r) => r.message.headers!['x-dlq-original-offset']!.toString() === '0')!;
    expect(headersInOrder(first.message).map(({ key, value }) => [key, value!.toString('hex')])).toEqual([
      ['bin', '00ff'],
      ['other', Buffer.from('x').toString('hex')],
      ['bin', Buffer.from('again').toString('hex')],
      ['x-dlq-replay-count', Buffer.from('1').toString('hex')],
      ['x-dlq-original-topic', Buffer.from(topic).toString('hex')],
      ['x-dlq-original-offset', Buffer.from('0').toString('hex')],
      ['x-dlq-original-partition', Buffer.from('0').toString('hex')],
      ['x-dlq-original-timestamp', Buffer.from(String(records[0]!.timestamp)).toString('hex')],
    ]);
    expect(await queueDepth(sqs, queue.url)).toBe(0); // deleted, not merely invisible to this reader
    await queue.remove();
  });

  it('dry run reads and validates but produces and deletes nothing', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0), failing(topic, 1)]);
    const { result } = await invoke('replay', { dryRun: true }, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ received: 2, replayed: 2, failed: 0, dryRun: true });
    expect(await producedTo(topic)).toBe(0);
    expect(await queueDepth(sqs, queue.url)).toBe(2);
    expect(await drain(sqs, queue.url, 2)).toHaveLength(2); // visible again at once
    await queue.remove();
  });

  it('replays at most maxMessages and leaves the rest in the queue', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([0, 1, 2, 3, 4].map((offset) => failing(topic, offset)));
    const { result } = await invoke('replay', { maxMessages: 2 }, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ received: 2, replayed: 2, skipped: 0, failed: 0 });
    expect(await producedTo(topic)).toBe(2);
    expect(await queueDepth(sqs, queue.url)).toBe(3);
    await queue.remove();
  });

  it("replays to targetTopic instead of the record's own topic", async () => {
    const [topic, target] = [await newTopic(), await newTopic()];
    const records = [failing(topic, 0), failing(topic, 1)];
    const queue = await deadLetter(records);
    const { result } = await invoke('replay', { targetTopic: target }, replayEnv(queue.url, [topic, target]));
    expect(result.response).toMatchObject({ received: 2, replayed: 2, failed: 0 });
    expect(await producedTo(topic)).toBe(0);
    const back = await replayedRecords(target, 2);
    expect(back.map((r) => [r.message.value!.toString(), r.message.headers!['x-dlq-original-partition']!.toString()]).sort()).toEqual(
      records.map((r) => [r.value, String(r.partition)]).sort(),
    );
    expect(await queueDepth(sqs, queue.url)).toBe(0);
    await queue.remove();
  });

  it('replays only the dead letters of filter.topic and leaves the others in the queue', async () => {
    const [topic, other] = [await newTopic(), await newTopic()];
    const queue = await deadLetter([failing(topic, 0), failing(other, 0), failing(other, 1)]);
    const { result } = await invoke('replay', { filter: { topic } }, replayEnv(queue.url, [topic, other]));
    expect(result.response).toMatchObject({ received: 3, replayed: 1, skipped: 2, failed: 0 });
    expect(await producedTo(topic)).toBe(1);
    expect(await producedTo(other)).toBe(0);
    expect(await queueDepth(sqs, queue.url)).toBe(2);
    await queue.remove();
  });

  // The loop guard as it runs: each replay of a record that fails again comes back from the
  // consumer with the count the replay wrote into it, until the limit (REPLAY_MAX_COUNT, 3) stops it.
  it('replays a record that keeps failing 3 times, then leaves it in the queue as skipped', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0, { headers: [['trace', 'abc']] })]);
    for (let round = 1; round <= 3; round++) {
      const { result } = await invoke('replay', {}, replayEnv(queue.url, [topic]));
      expect(result.response, `replay ${round}`).toMatchObject({ received: 1, replayed: 1, skipped: 0 });
      const copy = (await replayedRecords(topic, round)).find(
        (r) => r.message.headers!['x-dlq-replay-count']!.toString() === String(round),
      )!;
      expect(copy, `replay ${round}`).toBeDefined();
      // Not repeated: the count is replaced, and every copy names the record as first produced.
      expect(copy.message.headers).toEqual({
        trace: Buffer.from('abc'),
        'x-dlq-replay-count': Buffer.from(String(round)),
        'x-dlq-original-topic': Buffer.from(topic),
        'x-dlq-original-offset': Buffer.from('0'),
        'x-dlq-original-partition': Buffer.from('0'),
        'x-dlq-original-timestamp': Buffer.from('1700000000000'),
      });
      const consumed = await invoke('consumer', buildKafkaEvent([asDelivered(topic, copy)]), { ...env, DLQ_URL: queue.url });
      expect(consumed.result.deadLetters).toMatchObject([{ replayCount: round, record: { offset: copy.offset } }]);
    }
    const { result } = await invoke('replay', {}, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ received: 1, replayed: 0, skipped: 1, failed: 0 });
    expect(replaySummary(result).errors[0]!.reason).toBe('replayed 3 times already (limit 3); left in the queue');
    expect(await producedTo(topic)).toBe(3);
    expect(await queueDepth(sqs, queue.url)).toBe(1);
    await queue.remove();
  });

  it('rejects a bad payload or a target topic outside the allowlist before reading anything', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0)]);
    for (const [payload, message] of [
      [{ targetTopic: 'payments' }, /targetTopic "payments" is not one of the topics this stack consumes/],
      [{ maxMessages: 0 }, /maxMessages must be a whole number from 1 to 10000, got 0/],
      [{ maxMessages: 50_000 }, /maxMessages must be a whole number from 1 to 10000/],
      [{ dryRun: 'yes' }, /dryRun must be true or false/],
      [{ filter: { topic: 3 } }, /filter.topic must be a string/],
      [{ everything: true }, /Unknown field\(s\) everything/],
    ] as const) {
      const { code, result } = await invoke('replay', payload, replayEnv(queue.url, [topic]));
      expect(code).toBe(1);
      expect((result.error as { message: string }).message).toMatch(message);
    }
    expect(await drain(sqs, queue.url, 1)).toHaveLength(1); // never received: still visible
    await queue.remove();
  });

  it('replays only the dead letters of filter.errorType, and leaves a message that is not a dead letter as failed', async () => {
    const topic = await newTopic();
    const queue = await freshQueue(sqs, 'replay-filter');
    const envelope = (offset: number, type: string): DeadLetterEnvelope => ({
      version: 1,
      kind: 'kafka-dead-letter',
      record: {
        topic,
        partition: 0,
        offset,
        timestamp: 1,
        timestampType: 'CREATE_TIME',
        key: null,
        value: Buffer.from('{}').toString('base64'),
        headers: [],
      },
      error: { type, message: 'x' },
      attempts: 3,
      firstFailureAt: '2026-01-01T00:00:00Z',
      lastFailureAt: '2026-01-01T00:00:00Z',
      source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' },
      replayCount: 0,
    });
    for (const body of [envelope(1, 'TimeoutError'), envelope(2, 'Error')]) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(body) }));
    }
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"not":"ours"}' }));
    const { result } = await invoke('replay', { filter: { errorType: 'Error' } }, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ received: 3, replayed: 1, skipped: 1, failed: 1 });
    expect(replaySummary(result).errors.map((e) => e.reason)).toEqual([expect.stringMatching(/^malformed dead letter/)]);
    expect(await producedTo(topic)).toBe(1);
    expect(await queueDepth(sqs, queue.url)).toBe(2);
    await queue.remove();
  });

  it('resolves S3-offloaded dead letters and replays them byte for byte', async () => {
    const topic = await newTopic();
    const big = randomBytes(900_000).toString('base64'); // ~1.2 MB of text, not JSON
    const queue = await deadLetter([{ topic, partition: 0, offset: 0, key: 'big', value: big }]);
    const { result } = await invoke('replay', {}, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ replayed: 1, failed: 0 });
    const [back] = await replayedRecords(topic, 1);
    expect(back!.message.value!.toString()).toBe(big);
    await queue.remove();
  });

  it('refuses a pointer whose object is another pointer, and keeps the message', async () => {
    const topic = await newTopic();
    const queue = await freshQueue(sqs, 'replay-pointer');
    const s3 = new S3Client({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    const pointer = (key: string): DeadLetterPointer => ({
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: env.DLQ_BUCKET, key },
      record: { topic, partition: 0, offset: 0 },
      error: { type: 'Error', message: 'x' },
      replayCount: 0,
    });
    const key = `dead-letters/${uniqueTopic('pointer')}.json`;
    await s3.send(new PutObjectCommand({ Bucket: env.DLQ_BUCKET, Key: key, Body: JSON.stringify(pointer('dead-letters/elsewhere.json')) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(pointer(key)) }));
    const { result } = await invoke('replay', {}, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ received: 1, replayed: 0, failed: 1 });
    expect(replaySummary(result).errors[0]!.reason).toBe(`malformed dead letter: s3://${env.DLQ_BUCKET}/${key} holds another pointer`);
    expect(await queueDepth(sqs, queue.url)).toBe(1);
    expect(await producedTo(topic)).toBe(0);
    s3.destroy();
    await queue.remove();
  });

  it('keeps the message when the delete fails after the produce (at least once, never lost)', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0)]);
    const proxy = await startFaultProxy(env.AWS_ENDPOINT_URL, {
      throttle: 0,
      partialFailures: 0,
      breakApi: 'AmazonSQS.DeleteMessageBatch',
    });
    const { result } = await invoke('replay', {}, { ...replayEnv(queue.url, [topic]), AWS_ENDPOINT_URL: proxy.endpoint });
    await proxy.stop();
    expect(result.response).toMatchObject({ received: 1, replayed: 1 });
    expect((result.response as { errors: Array<{ reason: string }> }).errors[0]!.reason).toMatch(/not deleted from the queue/);
    expect(await producedTo(topic)).toBe(1);
    expect(await drain(sqs, queue.url, 1)).toHaveLength(1); // still there, visible again
    await queue.remove();
  });

  it('deletes nothing when the brokers are unavailable', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0), failing(topic, 1)]);
    const { result } = await invoke('replay', {}, { ...replayEnv(queue.url, [topic]), KAFKA_BROKERS: `127.0.0.1:${await closedPort()}` });
    expect(result.response).toMatchObject({ received: 2, replayed: 0, failed: 2 });
    expect(await drain(sqs, queue.url, 2)).toHaveLength(2); // still there, visible again
    await queue.remove();
  });
});
