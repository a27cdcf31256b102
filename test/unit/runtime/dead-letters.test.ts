import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadLetters, type DeadLetterSettings } from '../../../src/runtime/dead-letters.js';
import type { DeadLetterTransport } from '../../../src/runtime/dead-letter-writer.js';
import type { DeadLetterPointer } from '../../../src/runtime/envelope.js';
import { decodeEvent, recordAt, type DecodedEvent } from '../../../src/runtime/event.js';
import { OutcomeLedger } from '../../../src/runtime/outcome-ledger.js';
import { buildKafkaEvent, type BrokerRecord, type EventSource } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { fakeTransport, refuseAll } from '../../support/dead-letter-transport.js';
import { captureOutput } from '../../support/output.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const records = (n: number, topic = 't', partition = 0): BrokerRecord[] =>
  Array.from({ length: n }, (_, offset) => ({ topic, partition, offset, key: `k${offset}`, value: `v${offset}` }));

/** An invocation's dead letters over these records, with everything it touches. */
function setUp(
  brokerRecords: BrokerRecord[],
  settings: Partial<DeadLetterSettings> = {},
  source: EventSource = {},
  deadline = Number.POSITIVE_INFINITY,
) {
  const event: DecodedEvent = decodeEvent(buildKafkaEvent(brokerRecords, source));
  const ledger = new OutcomeLedger(event, Date.now());
  const context = lambdaContext();
  const lines = captureOutput();
  const fake = fakeTransport();
  const deadLetters = new DeadLetters(
    { queueUrl: 'q', transport: fake.transport, logRecordContents: false, ...settings },
    event,
    context,
    ledger,
    new Logger({ serviceName: 's' }),
    deadline,
  );
  /** Fails every record of the event for good, in order. */
  const failAll = (error: unknown = new Error('bad')) => {
    for (const p of event.partitions) for (const entry of p.entries) deadLetters.add(recordAt(p, entry), error, 3, 1_000);
  };
  return { event, ledger, context, lines, fake, deadLetters, failAll };
}

describe('DeadLetters', () => {
  it('writes each record that failed for good as an envelope naming the function, the request, the mapping and its consumer group', async () => {
    vi.useFakeTimers({ now: 5_000, toFake: ['Date'] });
    const { fake, deadLetters, failAll, context, ledger } = setUp(
      records(2, 'orders'),
      { consumerGroupId: 'g' },
      { eventSourceArn: 'arn:msk', bootstrapServers: 'b:9098' },
    );
    failAll(new TypeError('boom'));
    await deadLetters.flush();
    expect(fake.accepted.map((e) => [e.record.offset, e.attempts, e.firstFailureAt, e.lastFailureAt, e.error.type])).toEqual([
      [0, 3, '1970-01-01T00:00:01.000Z', '1970-01-01T00:00:05.000Z', 'TypeError'],
      [1, 3, '1970-01-01T00:00:01.000Z', '1970-01-01T00:00:05.000Z', 'TypeError'],
    ]);
    expect(fake.accepted[0]!.source).toEqual({
      functionName: 'consumer',
      requestId: context.awsRequestId,
      eventSource: 'aws:kafka',
      eventSourceArn: 'arn:msk',
      bootstrapServers: 'b:9098',
      consumerGroup: 'g-orders',
    });
    expect(ledger.stats.get('orders')).toMatchObject({ deadLettered: 2, deadLetterErrors: 0 });
  });

  it('leaves out of the source what the event and settings do not say', async () => {
    const { fake, deadLetters, failAll } = setUp(records(1), {}, { eventSource: 'SelfManagedKafka', bootstrapServers: '' });
    failAll();
    await deadLetters.flush();
    expect(Object.keys(fake.accepted[0]!.source)).toEqual(['functionName', 'requestId', 'eventSource']);
  });

  it('never touches the queue when nothing failed', async () => {
    const { fake, deadLetters, lines } = setUp(records(3));
    await deadLetters.flush();
    expect(fake.sends).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('logs one line for what SQS accepted: coordinates, attempts and error type, without keys, values or error messages (which may quote them)', async () => {
    const { deadLetters, failAll, lines } = setUp(records(2));
    failAll(new RangeError('out of range'));
    await deadLetters.flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'WARN',
      message: '2 records failed for good and were dead-lettered',
      deadLettered: 2,
      records: [
        { topic: 't', partition: 0, offset: 0, attempts: 3, error: { name: 'RangeError' } },
        { topic: 't', partition: 0, offset: 1, attempts: 3, error: { name: 'RangeError' } },
      ],
    });
    expect(JSON.stringify(lines)).not.toContain('out of range');
    expect(lines[0]).not.toHaveProperty('recordsNotListed');
    expect(Object.keys((lines[0]!.records as object[])[0]!)).toEqual(['topic', 'partition', 'offset', 'attempts', 'error']);
  });

  it('logs keys and values too with logRecordContents, and lists at most 20 records', async () => {
    const { deadLetters, failAll, lines } = setUp(records(21), { logRecordContents: true });
    failAll();
    await deadLetters.flush();
    const logged = lines[0]!.records as Array<Record<string, unknown>>;
    expect(logged).toHaveLength(20);
    expect(logged[0]).toMatchObject({
      key: Buffer.from('k0').toString('base64'),
      value: Buffer.from('v0').toString('base64'),
      error: { message: expect.any(String) },
    });
    expect(lines[0]).toMatchObject({ deadLettered: 21, recordsNotListed: 1 });
  });

  it('sends a dead letter too large for SQS to the bucket', async () => {
    const big = 'x'.repeat(1_100_000);
    const { fake, deadLetters, failAll } = setUp([{ topic: 't', partition: 0, offset: 0, value: big }], { bucket: 'b' });
    failAll();
    await deadLetters.flush();
    expect(fake.puts.map((p) => p.bucket)).toEqual(['b']);
    expect((fake.accepted[0] as unknown as DeadLetterPointer).kind).toBe('kafka-dead-letter-pointer');
  });

  it('redelivers each record whose dead letter SQS refused, from the lowest, logging each, and counts only the rest', async () => {
    const { fake, deadLetters, event, ledger, lines } = setUp(records(4));
    fake.transport.sendMessageBatch = async (_url, entries) => ({
      failed: refuseAll('KMS.AccessDenied', true)(
        0,
        entries.filter((e) => e.Id === '1' || e.Id === '3'),
      ),
    });
    const p = event.partitions[0]!;
    for (const entry of p.entries) deadLetters.add(recordAt(p, entry), new Error('bad'), 1, 0);
    await deadLetters.flush();
    expect(ledger.response(true).batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 1 } }]);
    expect(ledger.stats.get('t')).toMatchObject({ deadLettered: 2, deadLetterErrors: 2 });
    const errors = lines.filter((l) => l.level === 'ERROR');
    expect(errors.map((l) => [l.message, l.offset, l.error])).toEqual([
      ['dead letter could not be written; the record will be redelivered', 1, 'KMS.AccessDenied'],
      ['dead letter could not be written; the record will be redelivered', 3, 'KMS.AccessDenied'],
    ]);
    expect(lines.find((l) => l.level === 'WARN')).toMatchObject({ deadLettered: 2, records: [{ offset: 0 }, { offset: 2 }] });
  });

  it('without a queue, redelivers every such record and says which setting is missing', async () => {
    const { fake, deadLetters, failAll, ledger, lines } = setUp([...records(21, 't', 0), ...records(2, 't', 1)], { queueUrl: undefined });
    failAll();
    await deadLetters.flush();
    expect(fake.sends).toEqual([]);
    expect(ledger.response(true).batchItemFailures).toEqual([
      { itemIdentifier: { partition: 't-0', offset: 0 } },
      { itemIdentifier: { partition: 't-1', offset: 0 } },
    ]);
    expect(ledger.stats.get('t')).toMatchObject({ deadLettered: 0, deadLetterErrors: 23 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'ERROR',
      message:
        'DLQ_URL is not set, so 23 records that failed for good could not be dead-lettered; their partitions will be redelivered from them. Set DLQ_URL (the CDK construct does).',
    });
    expect((lines[0]!.records as unknown[]).slice(0, 2)).toEqual([
      { topic: 't', partition: 0, offset: 0 },
      { topic: 't', partition: 0, offset: 1 },
    ]);
    expect(lines[0]!.records).toHaveLength(20);
  });

  it('gives the writer its deadline: a dead letter not in SQS by then is redelivered', async () => {
    const hanging: DeadLetterTransport = {
      sendMessageBatch: (_url, _entries, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      async putObject() {},
    };
    const { deadLetters, failAll, ledger } = setUp(records(1), { transport: hanging }, {}, Date.now() + 50);
    failAll();
    await deadLetters.flush();
    expect(ledger.response(true).batchItemFailures).toEqual([{ itemIdentifier: { partition: 't-0', offset: 0 } }]);
  });
});

describe('DeadLetters, more', () => {
  it('lists exactly 20 dead letters without a count of the unlisted', async () => {
    const { deadLetters, failAll, lines } = setUp(records(20));
    failAll();
    await deadLetters.flush();
    expect(lines[0]).toMatchObject({ deadLettered: 20 });
    expect(lines[0]).not.toHaveProperty('recordsNotListed');
  });

  it('logs a send that failed with something other than an Error', async () => {
    const { fake, deadLetters, failAll, ledger, lines } = setUp(records(1));
    fake.transport.sendMessageBatch = () => Promise.reject(undefined);
    failAll();
    await deadLetters.flush();
    expect(ledger.stats.get('t')).toMatchObject({ deadLetterErrors: 1 });
    expect(lines.filter((l) => l.level === 'ERROR')).toHaveLength(1);
  });
});
