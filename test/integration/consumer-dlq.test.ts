import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildKafkaEvent, type BrokerRecord } from '../../local/esm/lambda-event.js';
import type { DeadLetterEnvelope, DeadLetterPointer } from '../../src/runtime/envelope.js';
import { invoke } from '../support/invoke.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';
import { startFaultProxy } from '../../local/fault-proxy.js';
import { closedPort } from '../support/net.js';

const env = inject('localEnv');
const sqs = sqsClient(env);
const order = (offset: number, simulate?: string, partition = 0): BrokerRecord => ({
  topic: 'orders',
  partition,
  offset,
  key: `order-${offset}`,
  value: JSON.stringify({ id: offset, simulate }),
});

describe('consumer dead-letter path against the embedded SQS/S3', () => {
  it('writes a versioned envelope that carries the record whole, with filterable attributes and valid EMF', async () => {
    const queue = await freshQueue(sqs, 'dlq');
    const failing: BrokerRecord = {
      ...order(5, 'permanent-failure'),
      headers: [
        ['trace', Buffer.from([0, 1, 255])],
        ['trace', 'second'],
      ],
    };
    const event = buildKafkaEvent([order(4), failing, order(6), { topic: 'orders', partition: 1, offset: 0, key: 'k', value: null }]);
    const { code, result, stdoutLines } = await invoke('consumer', event, { ...env, DLQ_URL: queue.url });
    expect(code).toBe(0);
    expect(result.response).toEqual({ batchItemFailures: [] });
    expect(result.deadLetters).toHaveLength(1);

    const [message] = await drain(sqs, queue.url, 1);
    const envelope = JSON.parse(message!.Body!) as DeadLetterEnvelope;
    expect(envelope).toEqual(result.deadLetters[0]);
    expect(envelope.record).toEqual({
      topic: 'orders',
      partition: 0,
      offset: 5,
      timestamp: event.records['orders-0']![1]!.timestamp,
      timestampType: 'CREATE_TIME',
      key: Buffer.from('order-5').toString('base64'),
      value: event.records['orders-0']![1]!.value,
      headers: [
        { name: 'trace', value: Buffer.from([0, 1, 255]).toString('base64') },
        { name: 'trace', value: Buffer.from('second').toString('base64') },
      ],
    });
    expect(envelope).toMatchObject({
      version: 1,
      attempts: 3,
      error: { type: 'Error' },
      replayCount: 0,
      source: { functionName: 'consumer', eventSource: 'aws:kafka' },
    });
    expect(message!.MessageAttributes).toMatchObject({ topic: { StringValue: 'orders' }, errorType: { StringValue: 'Error' } });

    const emf = stdoutLines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l));
    expect(emf).toHaveLength(1);
    const directive = emf[0]._aws.CloudWatchMetrics[0];
    expect(typeof emf[0]._aws.Timestamp).toBe('number');
    for (const { Name } of directive.Metrics) expect(typeof emf[0][Name]).toBe('number');
    for (const d of directive.Dimensions[0]) expect(typeof emf[0][d]).toBe('string');
    expect(emf[0]).toMatchObject({ RecordsReceived: 4, RecordsProcessed: 3, RecordsDeadLettered: 1, RecordsRetried: 2, topic: 'orders' });
    await queue.remove();
  });

  it('offloads an envelope over 1 MiB to S3 and leaves a pointer in SQS', async () => {
    const queue = await freshQueue(sqs, 'dlq-large');
    const big = randomBytes(900_000); // not JSON: a DeserializationError, dead-lettered at once
    const event = buildKafkaEvent([{ topic: 'orders', partition: 0, offset: 1, key: 'big', value: big }]);
    const { result } = await invoke('consumer', event, { ...env, DLQ_URL: queue.url });
    expect(result.response).toEqual({ batchItemFailures: [] });
    const [message] = await drain(sqs, queue.url, 1);
    const pointer = JSON.parse(message!.Body!) as DeadLetterPointer;
    expect(pointer).toMatchObject({
      kind: 'kafka-dead-letter-pointer',
      record: { topic: 'orders', partition: 0, offset: 1 },
      error: { type: 'DeserializationError' },
    });
    const s3 = new S3Client({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    const object = await s3.send(new GetObjectCommand({ Bucket: pointer.s3.bucket, Key: pointer.s3.key }));
    const envelope = JSON.parse(await object.Body!.transformToString()) as DeadLetterEnvelope;
    expect(Buffer.from(envelope.record.value!, 'base64').equals(big)).toBe(true);
    await queue.remove();
  });

  it('retries throttled calls and Failed[] entries until every dead letter is in, exactly once', async () => {
    const queue = await freshQueue(sqs, 'dlq-faults');
    const proxy = await startFaultProxy(env.AWS_ENDPOINT_URL, { throttle: 2, partialFailures: 2 });
    const records = Array.from({ length: 25 }, (_, i) => order(i, 'permanent-failure', i % 3));
    const { result } = await invoke('consumer', buildKafkaEvent(records), { ...env, AWS_ENDPOINT_URL: proxy.endpoint, DLQ_URL: queue.url });
    await proxy.stop();
    expect(result.response).toEqual({ batchItemFailures: [] });
    expect(proxy.counts.throttled).toBe(2);
    expect(proxy.counts.failedEntries).toBeGreaterThan(0);
    const messages = await drain(sqs, queue.url, 25);
    const offsets = messages.map((m) => (JSON.parse(m.Body!) as DeadLetterEnvelope).record.offset).sort((a, b) => a - b);
    expect(offsets).toEqual(records.map((r) => r.offset));
    await queue.remove();
  });

  it('reports the partition for redelivery when the dead-letter queue cannot be reached; with partial responses off, fails the invocation', async () => {
    const records = [order(10), order(11, 'permanent-failure'), order(12), order(0, undefined, 1)];
    const port = await closedPort();
    const unreachable = {
      ...env,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      DLQ_URL: `http://127.0.0.1:${port}/000000000000/unreachable`,
    };
    const { result } = await invoke('consumer', buildKafkaEvent(records), unreachable, ['--timeout', '8']);
    expect(result.response).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 'orders-0', offset: 11 } }] });
    expect(result.deadLetters).toEqual([]);

    const off = await invoke('consumer', buildKafkaEvent(records), { ...unreachable, REPORT_BATCH_ITEM_FAILURES: 'false' }, [
      '--timeout',
      '8',
    ]);
    expect(off.code).toBe(1);
    expect(off.result.error).toMatchObject({ type: 'WholeBatchRetryError', message: expect.stringContaining('orders-0 from offset 11') });
  });

  // A 5 s timeout halves the 3 s safety margin to 2.5 s; the flush deadline then used to be a
  // fraction of a millisecond, which AbortSignal.timeout refuses, and every dead letter failed.
  it('dead-letters under a 5 s function timeout', async () => {
    const queue = await freshQueue(sqs, 'dlq-short');
    const records = [order(20), order(21), order(22, 'permanent-failure'), order(23), order(24)];
    const { code, result } = await invoke('consumer', buildKafkaEvent(records), { ...env, DLQ_URL: queue.url }, ['--timeout', '5']);
    expect(code).toBe(0);
    expect(result.response).toEqual({ batchItemFailures: [] });
    const messages = await drain(sqs, queue.url, 1);
    expect(messages.map((m) => (JSON.parse(m.Body!) as DeadLetterEnvelope).record.offset)).toEqual([22]);
    await queue.remove();
  });
});
