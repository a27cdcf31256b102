import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { buildKafkaEvent, type BrokerRecord } from '../../local/esm/lambda-event';
import type { DeadLetterEnvelope } from '../../functions/runtime/envelope';
import { invoke } from '../support/invoke';
import { drain, freshQueue, sqsClient } from '../support/sqs';
import { produce, readTopic } from '../support/kafka';
import { startFaultProxy } from '../../local/fault-proxy';

const env = inject('localEnv');
const sqs = sqsClient(env);
let topicSeq = 0;
/** A topic of the test's own, created (4 partitions, by auto-creation) before anything is replayed to it. */
async function newTopic() {
  const topic = `replay-${Date.now()}-${topicSeq++}`;
  await produce(env.KAFKA_BROKERS, topic, [{ value: 'seed', partition: 3 }]);
  return topic;
}
const replayedRecords = async (topic: string, count: number, timeoutMs?: number) =>
  (await readTopic(env.KAFKA_BROKERS, topic, count + 1, timeoutMs)).filter((r) => r.message.headers?.['x-dlq-original-offset']);
const replayEnv = (queueUrl: string, topics: string[]) => ({ ...env, DLQ_URL: queueUrl, REPLAY_ALLOWED_TOPICS: topics.join(','), KAFKA_IDEMPOTENT_PRODUCER: 'false' });

/** Dead-letters these records through the real consumer, into a fresh queue. */
async function deadLetter(records: BrokerRecord[]) {
  const queue = await freshQueue(sqs, 'replay');
  const { result } = await invoke('consumer', buildKafkaEvent(records), { ...env, DLQ_URL: queue.url });
  expect(result.deadLetters).toHaveLength(records.length);
  return queue;
}
const failing = (topic: string, offset: number, extra: Partial<BrokerRecord> = {}): BrokerRecord => ({
  topic, partition: offset % 2, offset, timestamp: 1_700_000_000_000 + offset, key: `key-${offset}`,
  value: JSON.stringify({ id: offset, simulate: 'permanent-failure' }), ...extra,
});

describe('DLQ replay against the embedded broker and SQS/S3', () => {
  it('puts dead-lettered records back on their topic byte for byte, headers included, then empties the queue', async () => {
    const topic = await newTopic();
    const records = [
      failing(topic, 0, { headers: [['bin', Buffer.from([0, 255])], ['bin', 'again'], ['other', 'x']] }),
      failing(topic, 1, { key: null }),
      failing(topic, 2),
    ];
    const queue = await deadLetter(records);
    const { result } = await invoke('replay', {}, replayEnv(queue.url, [topic]));
    expect(result.response).toEqual({ received: 3, replayed: 3, skipped: 0, failed: 0, dryRun: false, errors: [] });

    const back = await replayedRecords(topic, 3);
    expect(back).toHaveLength(3);
    for (const original of records) {
      const replayed = back.find((r) => r.message.headers!['x-dlq-original-offset']!.toString() === String(original.offset))!;
      expect(replayed.partition).toBe(original.partition);
      expect(replayed.message.key?.toString() ?? null).toBe(original.key);
      expect(replayed.message.value!.toString()).toBe(original.value);
      expect(replayed.message.timestamp).toBe(String(original.timestamp));
      expect(replayed.message.headers!['x-dlq-replay-count']!.toString()).toBe('1');
      expect(replayed.message.headers!['x-dlq-original-partition']!.toString()).toBe(String(original.partition));
    }
    const first = back.find((r) => r.message.headers!['x-dlq-original-offset']!.toString() === '0')!;
    expect((first.message.headers!.bin as Buffer[]).map((b) => b.toString('hex'))).toEqual(['00ff', Buffer.from('again').toString('hex')]);
    expect(first.message.headers!.other!.toString()).toBe('x');
    expect(await drain(sqs, queue.url)).toHaveLength(0);
    await queue.remove();
  });

  it('dry run reads and validates but produces and deletes nothing', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0), failing(topic, 1)]);
    const { result } = await invoke('replay', { dryRun: true }, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ received: 2, replayed: 2, failed: 0, dryRun: true });
    expect(await drain(sqs, queue.url, 2)).toHaveLength(2); // visible again at once
    expect(await replayedRecords(topic, 1, 2_000)).toHaveLength(0);
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

  it('leaves dead letters at the replay limit in the queue, counted as skipped, and honours the filter', async () => {
    const topic = await newTopic();
    const queue = await freshQueue(sqs, 'replay-guard');
    const envelope = (offset: number, replayCount: number, type = 'Error'): DeadLetterEnvelope => ({
      version: 1, kind: 'kafka-dead-letter',
      record: { topic, partition: 0, offset, timestamp: 1, timestampType: 'CREATE_TIME', key: null, value: Buffer.from('{}').toString('base64'), headers: [] },
      error: { type, message: 'x' }, attempts: 3, firstFailureAt: '2026-01-01T00:00:00Z', lastFailureAt: '2026-01-01T00:00:00Z',
      source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' }, replayCount,
    });
    for (const body of [envelope(0, 3), envelope(1, 0, 'Timeout'), envelope(2, 0)]) {
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(body) }));
    }
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: '{"not":"ours"}' }));
    const { result } = await invoke('replay', { filter: { errorType: 'Error' } }, replayEnv(queue.url, [topic]));
    expect(result.response).toMatchObject({ received: 4, replayed: 1, skipped: 2, failed: 1 });
    const errors = (result.response as { errors: Array<{ reason: string }> }).errors.map((e) => e.reason);
    expect(errors.some((r) => r.includes('replayed 3 times already (limit 3)'))).toBe(true);
    expect(errors.some((r) => r.startsWith('malformed dead letter'))).toBe(true);
    const left = (await drain(sqs, queue.url, 3)).map((m) => m.Body!);
    expect(left).toHaveLength(3);
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

  it('keeps the message when the delete fails after the produce (at least once, never lost)', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0)]);
    const proxy = await startFaultProxy(env.AWS_ENDPOINT_URL, { throttle: 0, partialFailures: 0, breakApi: 'AmazonSQS.DeleteMessageBatch' });
    const { result } = await invoke('replay', {}, { ...replayEnv(queue.url, [topic]), AWS_ENDPOINT_URL: proxy.endpoint });
    await proxy.stop();
    expect(result.response).toMatchObject({ received: 1, replayed: 1 });
    expect((result.response as { errors: Array<{ reason: string }> }).errors[0]!.reason).toMatch(/not deleted from the queue/);
    expect(await replayedRecords(topic, 1)).toHaveLength(1);
    expect(await drain(sqs, queue.url, 1)).toHaveLength(1); // still there, visible again
    await queue.remove();
  });

  it('deletes nothing when the brokers are unavailable', async () => {
    const topic = await newTopic();
    const queue = await deadLetter([failing(topic, 0), failing(topic, 1)]);
    const { result } = await invoke('replay', {}, { ...replayEnv(queue.url, [topic]), KAFKA_BROKERS: '127.0.0.1:9' });
    expect(result.response).toMatchObject({ received: 2, replayed: 0, failed: 2 });
    expect(await drain(sqs, queue.url, 2)).toHaveLength(2);
    await queue.remove();
  });
});
