// Item 3 of issue 17: the oldest-dead-letter alarm keeps seeing dead letters the replay leaves in
// the queue, however often they are received. Runs the replayer against the embedded SQS/S3
// (fauxqs, a real process over a socket).
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRST_SENT_ATTRIBUTE } from '../../../src/contract/index.js';
import { DlqReplayer } from '../../../src/replay/replayer.js';
import { RENEW_AT_RECEIVE_COUNT } from '../../../src/replay/leftovers.js';
import { startLocalServices, type LocalServices } from '../../../local/services.js';
import { freshQueue, sqsClient } from '../../support/sqs.js';
import { synth } from './support.js';

let services: LocalServices;
let sqs: SQSClient;
let s3: S3Client;
beforeAll(async () => {
  services = await startLocalServices({ withKafka: false, environment: {} });
  Object.assign(process.env, services.env); // the replayer's SDK clients use AWS_ENDPOINT_URL
  sqs = sqsClient(services.env);
  s3 = new S3Client({ endpoint: services.env.AWS_ENDPOINT_URL, forcePathStyle: true });
}, 120_000);
afterAll(async () => {
  sqs?.destroy();
  s3?.destroy();
  await services?.stop();
});

const envelope = (offset: number, replayCount = 0) =>
  JSON.stringify({
    version: 1,
    kind: 'kafka-dead-letter',
    replayCount,
    attempts: 3,
    firstFailureAt: '2026-11-21T10:00:00.000Z',
    lastFailureAt: '2026-11-21T10:00:00.300Z',
    record: {
      topic: 'orders',
      partition: 0,
      offset,
      timestamp: 1,
      timestampType: 'CREATE_TIME',
      key: null,
      value: Buffer.from('{}').toString('base64'),
      headers: [],
    },
    error: { type: 'Error', message: 'boom' },
    source: { functionName: 'consumer', requestId: 'r', eventSource: 'aws:kafka' },
  });
const noProducer = () => Promise.reject(new Error('a dry run produces nothing'));
const dryRun = (queueUrl: string) =>
  new DlqReplayer({ queueUrl, producer: noProducer, replayLimit: 3 }).run(
    { source: 'dlq', maxMessages: 10, dryRun: true, filter: {}, allowedTopics: ['orders'] },
    Date.now() + 20_000,
  );
async function peek(queueUrl: string) {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

describe('dead letters the replay leaves in the queue', () => {
  // Amazon SQS Developer Guide, "Available CloudWatch metrics for Amazon SQS", ApproximateAgeOfOldestMessage:
  // "After a message is received three times (or more) and not processed, the message is moved to the
  // back of the queue and the ApproximateAgeOfOldestMessage metric points at the second-oldest message
  // that hasn't been received more than three times."
  it(`are sent again as new messages once received ${RENEW_AT_RECEIVE_COUNT} times, body and attributes kept, first enqueue time recorded`, async () => {
    const queue = await freshQueue(sqs, 'age');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: envelope(1, 3),
        MessageAttributes: { topic: { DataType: 'String', StringValue: 'orders' } },
      }),
    );
    const [original] = await peek(queue.url); // receive 1
    await dryRun(queue.url); // receive 2: at the replay limit, left in the queue; renewed
    const [renewed, ...others] = await peek(queue.url);
    expect(others).toEqual([]);
    expect(renewed!.MessageId).not.toBe(original!.MessageId);
    expect(renewed!.Body).toBe(original!.Body);
    expect(renewed!.MessageAttributes!.topic!.StringValue).toBe('orders');
    expect(renewed!.MessageAttributes![FIRST_SENT_ATTRIBUTE]!.StringValue).toBe(original!.Attributes!.SentTimestamp);
    expect(Number(renewed!.Attributes!.ApproximateReceiveCount)).toBeLessThan(RENEW_AT_RECEIVE_COUNT);
    await dryRun(queue.url);
    const [again] = await peek(queue.url);
    expect(again!.MessageAttributes![FIRST_SENT_ATTRIBUTE]!.StringValue).toBe(original!.Attributes!.SentTimestamp); // the first one, kept
    await queue.remove();
  });

  it("puts an offloaded dead letter's S3 object again before re-sending its pointer", async () => {
    const queue = await freshQueue(sqs, 'age-s3');
    const Bucket = services.env.DLQ_BUCKET;
    const Key = `dead-letters/age-${Date.now()}.json`;
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: envelope(2) }));
    const before = (await s3.send(new GetObjectCommand({ Bucket, Key }))).LastModified!;
    const pointer = {
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: Bucket, key: Key },
      record: { topic: 'orders', partition: 0, offset: 2 },
      error: { type: 'Error', message: 'boom' },
      replayCount: 0,
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(pointer) }));
    await peek(queue.url);
    await new Promise((r) => setTimeout(r, 1_100)); // S3 LastModified has whole seconds
    const summary = await dryRun(queue.url);
    expect(summary).toMatchObject({ received: 1, replayed: 1, dryRun: true });
    const object = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(object.LastModified!.getTime()).toBeGreaterThan(before.getTime());
    expect(await object.Body!.transformToString()).toBe(envelope(2));
    expect((await peek(queue.url)).map((m) => m.Body)).toEqual([JSON.stringify(pointer)]);
    await queue.remove();
  });

  // The alarm itself stays on SQS's own metric, which the renewal keeps truthful.
  it("alarm on the queue's ApproximateAgeOfOldestMessage", () => {
    synth().hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Namespace: 'AWS/SQS' });
  });
});
