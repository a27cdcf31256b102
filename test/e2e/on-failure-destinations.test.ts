// The emulator's on-failure destinations against the embedded broker and the embedded SQS/S3
// (fauxqs), over sockets: what each kind of destination holds once the mapping gave up on a batch.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import type { KafkaEvent, KafkaEventRecord } from '../../src/runtime/event.js';
import { EventSourceMappingEmulator, type Handler } from '../../local/esm/emulator.js';
import {
  kafkaOnFailureDestination,
  s3OnFailureDestination,
  sqsOnFailureDestination,
  type KafkaOnFailureRecord,
  type OnFailureDestination,
  type OnFailureRecord,
  type S3OnFailureRecord,
} from '../../local/esm/on-failure-destinations.js';
import { MappingSettingsError } from '../../src/mapping/errors.js';
import type { MappingSettings } from '../../src/mapping/mapping-settings.js';
import { readTopic, uniqueTopic } from '../support/kafka.js';
import { failAlways, produceOneBatch, startEmulator, until, type SourceRecord } from '../support/on-failure.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';

const env = inject('localEnv');
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const produceRecords = (topic: string, records: SourceRecord[]) => produceOneBatch(env.KAFKA_BROKERS, topic, records);

/** A topic that exists (and is empty): Lambda writes only to an existing failure topic, and so does the emulator. */
async function createEmptyTopic(topic: string) {
  const producer = (await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS })).producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, messages: [] }); // the metadata request that auto-creates it
  await producer.disconnect();
}

async function emulate(topic: string, handler: Handler, onFailure: OnFailureDestination, settings: Partial<MappingSettings> = {}) {
  const emulator = await startEmulator(env.KAFKA_BROKERS, topic, handler, onFailure, settings);
  cleanup.push(() => emulator.stop());
  return emulator;
}

const isPoison = (r: KafkaEventRecord) => (r.headers ?? []).some((h) => 'poison' in h);
/** Fails every invocation holding the poison record. */
const failOnPoison: Handler = async (event) => {
  if (
    Object.values((event as KafkaEvent).records)
      .flat()
      .some(isPoison)
  )
    throw new Error('poison');
  return { batchItemFailures: [] };
};
const bytes = (value: string | null | undefined) => (value == null ? null : Buffer.from(value, 'base64'));

describe('on-failure destinations of the event source mapping emulator', () => {
  // Lambda guide, "Capturing discarded batches for an Amazon MSK event source" (with-msk-on-failure,
  // "S3 destination example invocation record"): the SQS/SNS metadata plus `payload`, "the original
  // invocation record as an escaped JSON string". The object key layout is documented for Kinesis
  // and DynamoDB only (kinesis-on-failure-destination: aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/
  // YYYY-MM-DDTHH.MM.SS-<Random UUID>); the emulator puts the batch's first topic-partition as the shard.
  it('writes a batch that exhausted its retries to S3 as one object whose payload is the invocation event of exactly its records', async () => {
    const topic = uniqueTopic('e2e-ofd-s3');
    const s3 = new S3Client({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    cleanup.push(async () => s3.destroy());
    const bucket = `on-failure-${Date.now()}-${randomBytes(3).toString('hex')}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const sent: SourceRecord[] = Array.from({ length: 6 }, (_, i) => ({
      key: Buffer.from(`k${i}`),
      value: Buffer.from(JSON.stringify({ i })),
    }));
    sent[3] = { key: null, value: Buffer.from([0xff, 0x00, 0xfe, 0x80]), headers: { trace: Buffer.from([1, 2, 3]) } }; // bytes that are not UTF-8
    sent[4] = { key: Buffer.from('k4'), value: Buffer.from('{"i":4}'), headers: { poison: 'yes', trace: 'a' } };
    await produceRecords(topic, sent);

    // Bisection: 0–5 fail, 0–2 pass, 3–5 fail, then 3–4 fail a third time (the last retry) and 5 passes.
    const destination = s3OnFailureDestination(s3, bucket);
    expect(destination.target).toBe(`arn:aws:s3:::${bucket}`); // the destination's ARN, as messages name it
    const emulator = await emulate(topic, failOnPoison, destination, { retryAttempts: 2, bisectBatchOnError: true });
    await until(() => emulator.stats.decided >= 6, emulator);
    expect(emulator.stats.processed).toBe(4);
    expect(emulator.stats.discarded).toBe(2);

    const prefix = `aws/lambda/${emulator.mappingUuid}/`;
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(Contents).toHaveLength(1);
    const uuid = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
    expect(Contents[0]!.Key).toMatch(
      new RegExp(`^${prefix}${topic}-0/\\d{4}/\\d{2}/\\d{2}/\\d{4}-\\d{2}-\\d{2}T\\d{2}\\.\\d{2}\\.\\d{2}-${uuid}$`),
    );
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: Contents[0]!.Key! }));
    expect(object.ContentType).toBe('application/json');
    const record = JSON.parse(await object.Body!.transformToString()) as S3OnFailureRecord;

    expect(record).toMatchObject({
      requestContext: {
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
        functionArn: expect.stringMatching(/:function:consumer:\$LATEST$/),
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      KafkaBatchInfo: {
        batchSize: 2,
        bootstrapServers: env.KAFKA_BROKERS,
        recordsInfo: { [`${topic}-0`]: { firstRecordOffset: '3', lastRecordOffset: '4' } },
      },
    });
    expect(typeof record.payload).toBe('string'); // escaped JSON, not an object
    expect(record.KafkaBatchInfo.payloadSize).toBe(Buffer.byteLength(record.payload));
    const event = JSON.parse(record.payload) as KafkaEvent;
    expect(event).toMatchObject({
      eventSource: 'aws:kafka',
      eventSourceArn: record.KafkaBatchInfo.eventSourceArn,
      bootstrapServers: env.KAFKA_BROKERS,
    });
    expect(Object.keys(event.records)).toEqual([`${topic}-0`]);
    const failed = event.records[`${topic}-0`]!;
    expect(failed.map((r) => r.offset)).toEqual([3, 4]); // the discarded batch, none of the records that passed
    failed.forEach((r, n) => {
      const original = sent[3 + n]!;
      expect(bytes(r.key)).toEqual(original.key);
      expect(bytes(r.value as string)).toEqual(original.value);
    });
    expect(failed[0]!.headers).toEqual([{ trace: [1, 2, 3] }]);
    expect(failed[1]!.headers).toEqual([{ poison: [...Buffer.from('yes')] }, { trace: [...Buffer.from('a')] }]);
  });

  // Lambda guide, "Using a Kafka topic as an on-failure destination" (kafka-on-failure-destination),
  // "Record format for a Kafka destination": per record, the failure metadata with KafkaBatchInfo
  // batchSize 1 and recordInfo {offset, timestamp}, and `payload`, the invocation event of that one
  // record (a JSON object); "Partition key behavior": the original record's key. The page documents
  // no headers on the message; the record's own headers are in `payload`.
  it('produces each record of a discarded batch to the failure topic with its original key, value and the documented fields', async () => {
    const topic = uniqueTopic('e2e-ofd-kafka');
    const failureTopic = uniqueTopic('e2e-ofd-kafka-failed');
    await createEmptyTopic(failureTopic);
    const sent: SourceRecord[] = [
      { key: Buffer.from('a'), value: Buffer.from('{"n":1}') },
      { key: null, value: Buffer.from([0xc3, 0x28, 0x00]), headers: { h: 'x' } },
      { key: Buffer.from([0xde, 0xad]), value: Buffer.from('third') },
    ];
    await produceRecords(topic, sent);
    const destination = kafkaOnFailureDestination(failureTopic, {
      environment: { KAFKA_IDEMPOTENT_PRODUCER: env.KAFKA_IDEMPOTENT_PRODUCER },
    });
    const emulator = await emulate(topic, failAlways, destination, { retryAttempts: 0 });
    await until(() => emulator.stats.decided >= 3, emulator);
    expect(emulator.stats.discarded).toBe(3);

    const messages = await readTopic(env.KAFKA_BROKERS, failureTopic, 3);
    expect(messages).toHaveLength(3);
    const byOffset = new Map(
      messages.map(({ message }) => {
        const value = JSON.parse(message.value!.toString()) as KafkaOnFailureRecord;
        return [Number(value.KafkaBatchInfo.recordInfo.offset), { key: message.key, value }] as const;
      }),
    );
    expect([...byOffset.keys()].sort()).toEqual([0, 1, 2]);
    for (const [offset, { key, value }] of byOffset) {
      const original = sent[offset]!;
      expect(key).toEqual(original.key);
      expect(value).toMatchObject({
        requestContext: {
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: 1,
          functionArn: expect.stringMatching(/:function:consumer:\$LATEST$/),
        },
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        version: '1.0',
        KafkaBatchInfo: {
          batchSize: 1,
          eventSourceArn: expect.stringMatching(/^arn:aws:kafka:/),
          bootstrapServers: env.KAFKA_BROKERS,
          recordInfo: { offset: String(offset), timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) },
        },
      });
      expect(value.KafkaBatchInfo).not.toHaveProperty('recordsInfo');
      expect(value.KafkaBatchInfo.payloadSize).toBe(Buffer.byteLength(JSON.stringify(value.payload)));
      expect(Object.keys(value.payload.records)).toEqual([`${topic}-0`]);
      const [record, ...others] = value.payload.records[`${topic}-0`]!;
      expect(others).toEqual([]);
      expect(record).toMatchObject({ topic, partition: 0, offset });
      expect(bytes(record!.key)).toEqual(original.key);
      expect(bytes(record!.value as string)).toEqual(original.value);
      expect(new Date(record!.timestamp).toISOString()).toBe(value.KafkaBatchInfo.recordInfo.timestamp);
    }
    expect(byOffset.get(1)!.value.payload.records[`${topic}-0`]![0]!.headers).toEqual([{ h: [...Buffer.from('x')] }]);
  });

  // Lambda guide, kafka-on-failure-destination, "Recursion prevention": "Lambda prevents infinite
  // loops by blocking configurations where the source and destination topics are the same."
  it('refuses a failure topic that the mapping consumes, saying which and what to do', async () => {
    const topic = uniqueTopic('e2e-ofd-loop');
    const kafka = await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS });
    const build = () =>
      new EventSourceMappingEmulator({
        kafka,
        topic,
        bootstrapServers: env.KAFKA_BROKERS,
        handler: failAlways,
        settings: { topics: [topic] },
        onFailure: kafkaOnFailureDestination(topic),
      });
    expect(build).toThrow(MappingSettingsError);
    expect(build).toThrow(
      `onFailure is kafka://${topic}, one of the topics this consumer reads; Lambda refuses a failure topic that is a source topic: name another topic of the same cluster.`,
    );
  });

  it('leaves a batch its destination could not take uncommitted, and stops with an error that says why', async () => {
    const topic = uniqueTopic('e2e-ofd-missing');
    const missing = uniqueTopic('e2e-ofd-no-such-topic'); // never created: the producer creates no topic
    await produceRecords(topic, [
      { key: Buffer.from('a'), value: Buffer.from('1') },
      { key: Buffer.from('b'), value: Buffer.from('2') },
    ]);
    const destination = kafkaOnFailureDestination(missing, { environment: { KAFKA_IDEMPOTENT_PRODUCER: env.KAFKA_IDEMPOTENT_PRODUCER } });
    const emulator = await emulate(topic, failAlways, destination, { retryAttempts: 0 });
    for (const end = Date.now() + 60_000; !emulator.error && Date.now() < end;) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(emulator.error?.message).toContain(
      `could not write 2 discarded record(s) (${topic}-0 from offset 0) to its on-failure destination kafka://${missing}`,
    );
    expect(emulator.error?.message).toContain('They stay uncommitted');
    expect(emulator.stats.discarded).toBe(0);
    expect(emulator.stats.decided).toBe(0);
    await emulator.stop();
    await expect(emulator.start()).rejects.toThrow(`was stopped (${emulator.error!.message}): create a new EventSourceMappingEmulator`);
    const admin = (await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS })).admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: emulator.groupId, topics: [topic] });
      expect(offsets!.partitions.filter((p) => Number(p.offset) > 0)).toEqual([]); // nothing committed past them
    } finally {
      await admin.disconnect();
    }
  });

  // with-msk-on-failure, "SNS and SQS example invocation record": metadata only, no payload.
  it('sends the metadata record, without the records, to an SQS destination', async () => {
    const topic = uniqueTopic('e2e-ofd-sqs');
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'on-failure');
    cleanup.push(() => queue.remove());
    await produceRecords(topic, [
      { key: null, value: Buffer.from('x') },
      { key: null, value: Buffer.from('y') },
    ]);
    const emulator = await emulate(topic, failAlways, sqsOnFailureDestination(sqs, queue.url), { retryAttempts: 1 });
    await until(() => emulator.stats.decided >= 2, emulator);
    const [message, ...more] = await drain(sqs, queue.url);
    expect(more).toEqual([]);
    const record = JSON.parse(message!.Body!) as OnFailureRecord;
    expect(record).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 2 },
      KafkaBatchInfo: { batchSize: 2, recordsInfo: { [`${topic}-0`]: { firstRecordOffset: '0', lastRecordOffset: '1' } } },
    });
    expect(record).not.toHaveProperty('payload');
  });
});
