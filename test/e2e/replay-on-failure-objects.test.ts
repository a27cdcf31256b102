// The replay function's S3 source, end to end: the event source mapping emulator gives up on a
// batch and writes it to an S3 on-failure destination (fauxqs) in Lambda's format (Lambda guide,
// "Capturing discarded batches for an Amazon MSK event source": the metadata plus `payload`, the
// invocation event as an escaped JSON string); `npm run invoke -- replay` puts its records back
// on the embedded broker's topic and deletes the object.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { headersInOrder } from '../../src/kafka/kafka-headers.js';
import { s3OnFailureDestination } from '../../local/esm/on-failure-destinations.js';
import { invoke } from '../support/invoke.js';
import { readTopic, topicRecordCount, uniqueTopic } from '../support/kafka.js';
import { failAlways, produceOneBatch, startEmulator, until, type SourceRecord } from '../support/on-failure.js';

const env = inject('localEnv');
const s3 = new S3Client({
  endpoint: env.AWS_ENDPOINT_URL,
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
afterAll(() => s3.destroy());

const keysIn = async (bucket: string) => ((await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => o.Key!);
const hex = (b: Buffer | null | undefined) => b?.toString('hex') ?? null;

describe('replay from an S3 on-failure destination', () => {
  it('replays the records the emulator discarded into S3 with key, value and headers intact, deletes their object and leaves a malformed one; a dry run changes nothing', async () => {
    const topic = uniqueTopic('e2e-replay-s3');
    const bucket = `replay-s3-${Date.now()}-${randomBytes(3).toString('hex')}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const sent: SourceRecord[] = [
      { key: Buffer.from('k0'), value: Buffer.from('{"n":0}'), headers: { trace: Buffer.from([0, 255]) } },
      { key: null, value: Buffer.from([0xff, 0x00, 0xfe]) }, // not UTF-8
      { key: Buffer.from([0xde, 0xad]), value: Buffer.from('third') },
    ];
    await produceOneBatch(env.KAFKA_BROKERS, topic, sent);
    const emulator = await startEmulator(env.KAFKA_BROKERS, topic, failAlways, s3OnFailureDestination(s3, bucket), { retryAttempts: 0 });
    try {
      await until(() => emulator.stats.discarded >= sent.length, emulator);
    } finally {
      await emulator.stop(); // it would consume the replayed records again
    }
    const [discarded, ...more] = await keysIn(bucket);
    expect(more).toEqual([]);
    const malformed = `aws/lambda/${emulator.mappingUuid}/${topic}-0/2025/01/01/2025-01-01T00.00.00-malformed`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: malformed, Body: '{"payload": {"not": "a string"}}' }));
    const replayEnv = { ...env, ON_FAILURE_BUCKET: bucket, REPLAY_ALLOWED_TOPICS: topic, KAFKA_IDEMPOTENT_PRODUCER: 'false' };
    const malformedError = {
      objectKey: malformed,
      reason:
        'malformed on-failure object: "payload" must be the invocation event as a JSON string, as Lambda writes it to an S3 on-failure destination; left in the bucket',
    };

    const lastKey = [discarded, malformed].sort().at(-1); // listed in key order; the summary names the last one read
    const dryRun = await invoke('replay', { source: 's3', dryRun: true }, replayEnv);
    expect(dryRun.result.response).toEqual({
      received: 3,
      replayed: 3,
      skipped: 0,
      failed: 0,
      dryRun: true,
      objects: { received: 2, replayed: 1, skipped: 0, failed: 1, lastKey },
      errors: [malformedError],
      // What `dlq report --source s3` shows: the readable object's records, by Lambda's condition.
      contents: {
        byTopic: { [topic]: 3 },
        byErrorType: { RetryAttemptsExhausted: 3 },
        byAge: { underHour: 3, underDay: 0, underWeek: 0, older: 0 },
        oldest: expect.objectContaining({ topic, partition: 0, offset: 0, errorType: 'RetryAttemptsExhausted' }),
      },
    });
    expect(await topicRecordCount(env.KAFKA_BROKERS, topic)).toBe(sent.length); // the watermarks: nothing produced
    expect((await keysIn(bucket)).sort()).toEqual([discarded, malformed].sort()); // nothing deleted

    const replayStarted = Date.now();
    const { result } = await invoke('replay', { source: 's3' }, replayEnv);
    expect(result.response).toEqual({
      received: 3,
      replayed: 3,
      skipped: 0,
      failed: 0,
      dryRun: false,
      objects: { received: 2, replayed: 1, skipped: 0, failed: 1, lastKey },
      errors: [malformedError],
    });
    expect(await keysIn(bucket)).toEqual([malformed]); // the replayed object deleted, the malformed one left

    const onTopic = await readTopic(env.KAFKA_BROKERS, topic, sent.length * 2);
    const replayed = onTopic.filter((r) => r.offset >= sent.length);
    expect(replayed).toHaveLength(sent.length);
    replayed.forEach(({ partition, message }, i) => {
      const original = sent[i]!;
      expect(partition).toBe(0); // its own partition, in its order
      expect(hex(message.key)).toBe(hex(original.key));
      expect(hex(message.value)).toBe(hex(original.value));
      expect(Number(message.timestamp)).toBeGreaterThanOrEqual(replayStarted);
      const originalTimestamp = onTopic[i]!.message.timestamp;
      expect(headersInOrder(message).map(({ key, value }) => [key, hex(value)])).toEqual([
        ...Object.entries(original.headers ?? {}).map(([name, value]) => [name, hex(value as Buffer)]),
        ['x-dlq-replay-count', hex(Buffer.from('1'))],
        ['x-dlq-original-topic', hex(Buffer.from(topic))],
        ['x-dlq-original-offset', hex(Buffer.from(String(i)))],
        ['x-dlq-original-partition', hex(Buffer.from('0'))],
        ['x-dlq-original-timestamp', hex(Buffer.from(originalTimestamp))],
      ]);
    });
  });
});
