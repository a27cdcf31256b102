// Issue 33, acceptance: `kafka-lambda-consumers dlq report|replay --local`, run as a user runs it
// (a subprocess, no terminal) against the embedded broker and SQS of the e2e setup (what
// `npm run services` starts): the report counts a seeded queue by topic and error type; a replay
// of 25,000 dead letters in several invocations drains the queue onto Kafka; Ctrl-C mid-run stops
// after the invocation in flight with nothing half-done; the output off a terminal is plain lines.
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { envelopes } from '../support/dead-letter-transport.js';
import { redrawsALine, runDlq, runDlqThroughNpm, seedDeadLetters } from '../support/dlq-cli.js';
import { produce, topicRecordCount, uniqueTopic } from '../support/kafka.js';
import { freshQueue, sqsClient } from '../support/sqs.js';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildKafkaEvent } from '../../local/esm/lambda-event.js';

const env = inject('localEnv');
const sqs = sqsClient(env);
const s3 = new S3Client({
  endpoint: env.AWS_ENDPOINT_URL,
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
const removals: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  await Promise.allSettled(removals.map((remove) => remove()));
  s3.destroy();
});

/** Dead letters of `topic` failed with `errorType`, offsets from `first`. */
const deadLetters = (topic: string, errorType: string, n: number, first = 0): DeadLetterEnvelope[] =>
  envelopes(n, topic).map((e, i) => ({
    ...e,
    record: { ...e.record, offset: first + i },
    error: { type: errorType, message: 'simulated' },
  }));

async function queueWith(prefix: string, letters: DeadLetterEnvelope[]) {
  const queue = await freshQueue(sqs, prefix);
  removals.push(queue.remove);
  await seedDeadLetters(sqs, queue.url, letters);
  return queue.url;
}

async function depth(url: string) {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return { visible: Number(Attributes.ApproximateNumberOfMessages), inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
}

/** A topic on the broker (the replay produces to a dead letter's own partition, 0 here). */
async function topicOnBroker(prefix: string) {
  const topic = uniqueTopic(prefix);
  await produce(env.KAFKA_BROKERS, topic, [{ value: 'seed', partition: 0 }]);
  return topic;
}

const localEnv = (url: string, topics: string[]) => ({
  ...env,
  DLQ_URL: url,
  REPLAY_ALLOWED_TOPICS: topics.join(','),
  KAFKA_IDEMPOTENT_PRODUCER: 'false',
});

describe('kafka-lambda-consumers dlq (end to end, --local)', () => {
  it('reports a queue by topic, error type and age', async () => {
    const [orders, payments] = [uniqueTopic('report-orders'), uniqueTopic('report-payments')];
    const url = await queueWith('report', [
      ...deadLetters(orders, 'TimeoutError', 7),
      ...deadLetters(orders, 'ValidationError', 3, 7),
      ...deadLetters(payments, 'TimeoutError', 2),
      ...deadLetters(payments, 'SchemaError', 5, 2),
    ]);

    const json = await runDlq(['report', '--local', '--json'], localEnv(url, [orders, payments]));
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout.trimEnd().split('\n').at(-1)!);
    expect(report).toMatchObject({ source: 'dlq', read: 17, replayable: 17, skipped: 0, failed: 0, queue: { visible: 17, inFlight: 0 } });
    expect(report.contents.byTopic).toEqual({ [orders]: 10, [payments]: 7 });
    expect(report.contents.byErrorType).toEqual({ TimeoutError: 9, ValidationError: 3, SchemaError: 5 });
    expect(report.contents.byAge).toEqual({ underHour: 17, underDay: 0, underWeek: 0, older: 0 });
    expect(report.contents.oldest).toMatchObject({ topic: expect.any(String), errorType: expect.any(String) });

    // Without a terminal: the table as plain lines, nothing redrawn.
    const text = await runDlq(['report', '--local'], localEnv(url, [orders, payments]));
    expect(text.code, text.stderr).toBe(0);
    expect(redrawsALine(text.stdout)).toBe(false);
    expect(text.stdout).toMatch(new RegExp(`^${orders} +10$`, 'm'));
    expect(text.stdout).toMatch(/^TimeoutError +9$/m);
    expect(text.stdout).toMatch(/^Queue: ~17 dead letters/m);
    expect((await depth(url)).visible).toBe(17); // a report replays nothing and leaves every dead letter
  });

  it('reports an S3 on-failure destination by topic, the condition Lambda gave up with, and age', async () => {
    const [orders, payments] = [uniqueTopic('report-s3-orders'), uniqueTopic('report-s3-payments')];
    const bucket = uniqueTopic('report-s3').toLowerCase();
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // Objects as Lambda writes them (the failure metadata, abridged, and the invocation event as a JSON string).
    const object = (n: number, condition: string, topics: string[]) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `aws/lambda/uuid/t-0/2026/12/07/2026-12-07T00.00.0${n}-id`,
          Body: JSON.stringify({
            requestContext: { condition },
            timestamp: new Date().toISOString(),
            version: '1.0',
            payload: JSON.stringify(
              buildKafkaEvent(topics.map((topic, offset) => ({ topic, partition: 0, offset, timestamp: 0, key: null, value: 'v' }))),
            ),
          }),
        }),
      );
    await object(1, 'RetryAttemptsExhausted', [orders, orders, orders]);
    await object(2, 'MaximumPayloadSizeExceeded', [payments]);

    const run = await runDlq(['report', '--local', '--source', 's3', '--json'], {
      ...env,
      REPLAY_ALLOWED_TOPICS: [orders, payments].join(','),
      KAFKA_IDEMPOTENT_PRODUCER: 'false',
      ON_FAILURE_BUCKET: bucket,
    });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);
    expect(report).toMatchObject({
      source: 's3',
      read: 4,
      replayable: 4,
      contents: { byAge: { underHour: 4, underDay: 0, underWeek: 0, older: 0 } },
    });
    expect(report).not.toHaveProperty('queue'); // a bucket has no queue attributes
    expect(report.contents.byTopic).toEqual({ [orders]: 3, [payments]: 1 });
    expect(report.contents.byErrorType).toEqual({ RetryAttemptsExhausted: 3, MaximumPayloadSizeExceeded: 1 });
  });

  it('drains many dead letters onto Kafka in several invocations', async () => {
    const total = 25_000;
    const topic = await topicOnBroker('drain');
    const url = await queueWith('drain', deadLetters(topic, 'TimeoutError', total));

    const run = await runDlq(['replay', '--local', '--max-per-invocation', String(total / 5), '--json'], localEnv(url, [topic]));
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trimEnd().split('\n').at(-1)!);
    expect(summary).toMatchObject({ replayed: total, failed: 0, stoppedBecause: 'drained', left: 0 });
    expect(summary.invocations).toBeGreaterThanOrEqual(5);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1); // --json: progress on stderr, the summary alone on stdout
    expect(await depth(url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await topicRecordCount(env.KAFKA_BROKERS, topic)).toBe(total + 1);
  });

  it('stops after the invocation in flight on Ctrl-C, with nothing half-done, in plain lines', async () => {
    const total = 2_000;
    const topic = await topicOnBroker('interrupt');
    const url = await queueWith('interrupt', deadLetters(topic, 'TimeoutError', total));

    let sent = false;
    // Ctrl-C as soon as the run has started its first invocation (the first line says so).
    const run = await runDlq(['replay', '--local', '--max-per-invocation', '200'], localEnv(url, [topic]), (stdout, signal) => {
      if (!sent && stdout.includes('\n')) {
        sent = true;
        signal('SIGINT');
      }
    });
    expect(run.code, run.stderr).toBe(130);
    expect(run.stdout).toMatch(/Stopped: interrupted \(Ctrl-C\) after invocation 1,/);
    const replayed = Number(/^Replayed (\d+),/m.exec(run.stdout)![1]);
    expect(replayed).toBe(200);
    // Every dead letter replayed and deleted, or in the queue and visible: none both, none neither.
    expect(await depth(url)).toEqual({ visible: total - replayed, inFlight: 0 });
    expect(await topicRecordCount(env.KAFKA_BROKERS, topic)).toBe(replayed + 1);
    // Off a terminal: one plain progress line per invocation, nothing redrawn.
    expect(redrawsALine(run.stdout)).toBe(false);
    expect(run.stdout.split('\n').filter((l) => l.startsWith('replayed '))).toHaveLength(1);
  });

  it('stops the same way under npm run dlq, where Ctrl-C reaches npm, its shell and node (and npm forwards it)', async () => {
    const total = 2_000;
    const topic = await topicOnBroker('interrupt-npm');
    const url = await queueWith('interrupt-npm', deadLetters(topic, 'TimeoutError', total));

    let sent = false;
    // As a terminal does: SIGINT to the whole process group (npm, its shell, node); npm forwards it to node again.
    const run = await runDlqThroughNpm(['replay', '--local', '--max-per-invocation', '200'], localEnv(url, [topic]), (stdout, signal) => {
      if (!sent && stdout.includes('\n')) {
        sent = true;
        signal('SIGINT');
      }
    });
    expect(run.stderr).not.toContain('quitting now'); // not taken for a second Ctrl-C
    expect(run.stdout).toMatch(/Stopped: interrupted \(Ctrl-C\) after invocation 1,/);
    const replayed = Number(/^Replayed (\d+),/m.exec(run.stdout)![1]);
    expect(await depth(url)).toEqual({ visible: total - replayed, inFlight: 0 });
    expect(await topicRecordCount(env.KAFKA_BROKERS, topic)).toBe(replayed + 1);
  });
});
