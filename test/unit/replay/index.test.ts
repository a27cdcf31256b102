import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../../src/replay/index.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { envelopes } from '../../support/dead-letter-transport.js';
import { fakeAws, sqsMessage } from '../../support/fake-aws.js';
import { captureOutput } from '../../support/output.js';
import { fresh } from '../../support/fresh.js';
import type * as IndexModule from '../../../src/replay/index.js';

beforeEach(() => {
  vi.stubEnv('REPLAY_ALLOWED_TOPICS', 't');
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('replay handler', () => {
  it('fails with a ConfigurationError naming DLQ_URL when it is not set', async () => {
    vi.stubEnv('DLQ_URL', '');
    vi.stubEnv('KAFKA_BROKERS', ''); // a connect attempt would fail with a KAFKA_BROKERS error instead
    captureOutput();
    await expect(handler({ dryRun: true }, lambdaContext(60_000, 'replay'))).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'DLQ_URL is not set: the replay function reads the dead-letter queue it names.',
    });
  });

  it('answers with the summary, logs it and publishes its counts', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    const lines = captureOutput();
    const aws = await fakeAws(envelopes(2).map((e, i) => sqsMessage(e, i)));
    const summary = await handler({ dryRun: true, maxMessages: 5 }, lambdaContext(60_000, 'replay'));
    expect(summary).toEqual({
      received: 2,
      replayed: 2,
      skipped: 0,
      failed: 0,
      dryRun: true,
      errors: [],
      contents: expect.objectContaining({ byErrorType: { Error: 2 } }),
    });
    expect(aws.named('ReceiveMessage')[0]).toMatchObject({ QueueUrl: 'https://sqs/dlq', MaxNumberOfMessages: 5 });
    expect(lines.find((l) => l.message === 'replay finished')).toMatchObject({
      level: 'INFO',
      received: 2,
      replayed: 2,
      dryRun: true,
      errors: [],
    });
    expect(lines.find((l) => l._aws)).toMatchObject({ ReplayReceived: 2, ReplayReplayed: 2, ReplaySkipped: 0, ReplayFailed: 0 });
    expect(lines.find((l) => l._aws)).not.toHaveProperty('ReplayErrors');
  });

  it('keeps back 5 s, or a quarter of a short remaining time, to finish', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    captureOutput();
    const aws = await fakeAws([]);
    await handler({ dryRun: true }, lambdaContext(60_000, 'replay'));
    await handler({ dryRun: true }, lambdaContext(8_000, 'replay'));
    // Receives hide messages for the time left until the deadline (whole seconds) plus 30 s.
    expect(aws.named('ReceiveMessage').map((r) => r.VisibilityTimeout)).toEqual([
      55 + 30,
      55 + 30,
      55 + 30,
      55 + 30,
      6 + 30,
      6 + 30,
      6 + 30,
      6 + 30,
    ]);
  });

  it('fails the invocation on a Kafka setting that cannot work, instead of failing each record', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    vi.stubEnv('KAFKA_BROKERS', '');
    const lines = captureOutput();
    const aws = await fakeAws(envelopes(1).map((e, i) => sqsMessage(e, i)));
    await expect(handler({}, lambdaContext(60_000, 'replay'))).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringContaining('KAFKA_BROKERS is not set'),
    });
    expect(aws.named('DeleteMessageBatch')).toEqual([]);
    expect(lines.find((l) => l._aws)).toMatchObject({ ReplayErrors: 1 });
  });

  it('refuses a malformed request before reading anything', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    captureOutput();
    const aws = await fakeAws([]);
    await expect(handler({ maxMessages: 0 }, lambdaContext(60_000, 'replay'))).rejects.toMatchObject({ name: 'ReplayRequestError' });
    expect(aws.calls).toEqual([]);
  });
});

describe('replay handler, source "s3"', () => {
  it('fails with a ConfigurationError naming ON_FAILURE_BUCKET and how to set it when it is not set', async () => {
    vi.stubEnv('ON_FAILURE_BUCKET', '');
    captureOutput();
    const aws = await fakeAws([]);
    await expect(handler({ source: 's3' }, lambdaContext(60_000, 'replay'))).rejects.toMatchObject({
      name: 'ConfigurationError',
      message:
        'ON_FAILURE_BUCKET is not set: source "s3" replays the objects of the consumer\'s S3 on-failure destination. Give the KafkaConsumer onFailure: new S3OnFailureDestination(bucket) (DeadLetterReplay then sets it), or set it to the bucket\'s name.',
    });
    expect(aws.calls).toEqual([]);
  });

  it('reads the bucket ON_FAILURE_BUCKET names, not the queue, and answers with the object counts too', async () => {
    vi.stubEnv('DLQ_URL', '');
    vi.stubEnv('ON_FAILURE_BUCKET', 'failures');
    captureOutput();
    const aws = await fakeAws([], {}, (call) => (call.name === 'ListObjectsV2' ? { Contents: [] } : undefined));
    const summary = await handler({ source: 's3', dryRun: true }, lambdaContext(60_000, 'replay'));
    expect(summary).toEqual({
      received: 0,
      replayed: 0,
      skipped: 0,
      failed: 0,
      dryRun: true,
      objects: { received: 0, replayed: 0, skipped: 0, failed: 0 },
      errors: [],
      contents: expect.objectContaining({ byTopic: {} }),
    });
    expect(aws.calls.map((c) => [c.name, c.input.Bucket])).toEqual([['ListObjectsV2', 'failures']]);
  });
});

describe('replay handler, more', () => {
  it('logs as kafka-dlq-replay with the request id, lists 20 errors at most in the log, and publishes to KafkaConsumer', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    const lines = captureOutput();
    await fakeAws(Array.from({ length: 21 }, (_, i) => sqsMessage('hello', i)));
    const context = lambdaContext(60_000, 'replay');
    const { handler: freshHandler } = await fresh<typeof IndexModule>('../../src/replay/index.js'); // its logger and metrics are built at load
    const summary = await freshHandler({ dryRun: true }, context);
    expect(summary.errors).toHaveLength(21);
    const line = lines.find((l) => l.message === 'replay finished')!;
    expect(line).toMatchObject({ service: 'kafka-dlq-replay', function_request_id: context.awsRequestId, failed: 21 });
    expect(line.errors).toHaveLength(20);
    const emf = lines.find((l) => l._aws) as { _aws: { CloudWatchMetrics: Array<{ Namespace: string }> }; service: string };
    expect([emf._aws.CloudWatchMetrics[0]!.Namespace, emf.service]).toEqual(['KafkaConsumer', 'kafka-dlq-replay']);
  });

  it('fails the invocation on a producer setting that cannot work', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    vi.stubEnv('KAFKA_BROKERS', '127.0.0.1:9');
    vi.stubEnv('KAFKA_IDEMPOTENT_PRODUCER', 'maybe');
    captureOutput();
    await fakeAws(envelopes(1).map((e, i) => sqsMessage(e, i)));
    await expect(handler({}, lambdaContext(60_000, 'replay'))).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'KAFKA_IDEMPOTENT_PRODUCER is "maybe"; it must be true (the default) or false.',
    });
  });
});
