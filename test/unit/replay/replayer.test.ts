import type { Message } from '@aws-sdk/client-sqs';
import type { Producer, ProducerBatch } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../../src/kafka/kafka-headers.js';
import { FIRST_SENT_ATTRIBUTE } from '../../../src/contract/index.js';
import { DlqReplayer, type ReplaySummary } from '../../../src/replay/replayer.js';
import type { ReplaySettings } from '../../../src/replay/request.js';
import type { DeadLetterPointer } from '../../../src/runtime/envelope.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { envelopes } from '../../support/dead-letter-transport.js';
import { fakeAws, sqsMessage } from '../../support/fake-aws.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A producer that records what it was asked to send; `fail` makes every send throw. */
function fakeProducer(fail?: Error) {
  const batches: ProducerBatch[] = [];
  let connects = 0;
  const producer = {
    sendBatch: async (batch: ProducerBatch) => {
      if (fail) throw fail;
      batches.push(batch);
      return [];
    },
  } as unknown as Producer;
  return { batches, connect: async () => (connects++, producer), connects: () => connects };
}

/** Dead letters t-0@0..n-1 (value "{}", error type "Error"), as messages m0.., replayed `replayCount` times before. */
const deadLetters = (n: number, replayCount = 0, topic = 't') => envelopes(n, topic).map((e, i) => sqsMessage({ ...e, replayCount }, i));

const settings = (s: Partial<ReplaySettings> = {}): ReplaySettings => ({
  source: 'dlq',
  maxMessages: 100,
  dryRun: false,
  filter: {},
  allowedTopics: ['t', 'a', 'b', 'retry-topic'],
  ...s,
});
const noDelay = new RetryPolicy({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 });
const replayer = (producer = fakeProducer(), options: { replayLimit?: number; receivers?: number } = {}) =>
  new DlqReplayer({
    queueUrl: 'https://sqs/dlq',
    producer: producer.connect,
    replayLimit: options.replayLimit ?? 3,
    receivers: options.receivers ?? 1,
    retry: noDelay,
  });
const later = () => Date.now() + 60_000;
const summaryOf = (fields: Partial<ReplaySummary>): ReplaySummary => ({
  received: 0,
  replayed: 0,
  skipped: 0,
  failed: 0,
  dryRun: false,
  errors: [],
  ...fields,
});

describe('DlqReplayer', () => {
  it('produces each dead letter to its topic and partition with acks from all replicas, then deletes it', async () => {
    const aws = await fakeAws(deadLetters(3));
    const producer = fakeProducer();
    expect(await replayer(producer).run(settings(), later())).toEqual(summaryOf({ received: 3, replayed: 3 }));
    expect(producer.batches).toHaveLength(1);
    const [batch] = producer.batches;
    expect(batch!.acks).toBe(-1);
    expect(batch!.topicMessages!.map((t) => [t.topic, t.messages.map((m) => [m.partition, String(m.value)])])).toEqual([
      [
        't',
        [
          [0, '{}'],
          [0, '{}'],
          [0, '{}'],
        ],
      ],
    ]);
    expect(aws.named('DeleteMessageBatch')).toEqual([
      {
        QueueUrl: 'https://sqs/dlq',
        Entries: [
          { Id: '0', ReceiptHandle: 'rh0' },
          { Id: '1', ReceiptHandle: 'rh1' },
          { Id: '2', ReceiptHandle: 'rh2' },
        ],
      },
    ]);
    expect(aws.named('ChangeMessageVisibilityBatch')).toEqual([]);
  });

  it('receives up to 10 at a time, for as long as it has time, naming the attributes it needs', async () => {
    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const aws = await fakeAws(deadLetters(12));
    await replayer().run(settings(), 4_500);
    const receive = {
      QueueUrl: 'https://sqs/dlq',
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      VisibilityTimeout: 5 + 30, // 4.5 s left, in whole seconds, and a margin
      MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
      MessageAttributeNames: ['All'],
    };
    expect(aws.named('ReceiveMessage')).toEqual([receive, receive, receive]); // 10, 2, then none: drained
  });

  it('asks for no more than maxMessages in all, and stops there', async () => {
    const aws = await fakeAws(deadLetters(30));
    const summary = await replayer().run(settings({ maxMessages: 13 }), later());
    expect(aws.named('ReceiveMessage').map((i) => i.MaxNumberOfMessages)).toEqual([10, 3]);
    expect(summary).toMatchObject({ received: 13, replayed: 13 });
  });

  it('shares maxMessages among parallel receivers, giving back what a receive did not fill', async () => {
    const aws = await fakeAws(deadLetters(4));
    const summary = await new DlqReplayer({ queueUrl: 'q', producer: fakeProducer().connect, replayLimit: 3, retry: noDelay }).run(
      settings({ maxMessages: 25 }),
      later(),
    );
    expect(summary).toMatchObject({ received: 4, replayed: 4 });
    const asked = aws.named('ReceiveMessage').map((i) => i.MaxNumberOfMessages as number);
    expect(asked.slice(0, 3)).toEqual([10, 10, 5]); // 4 receivers by default; the 4th has nothing left to ask for at first
    expect(asked.reduce((a, b) => a + b, 0)).toBeGreaterThan(25);
  });

  it('receives nothing once the deadline has passed, and waits at most a second when little time is left', async () => {
    vi.useFakeTimers({ now: 10_000, toFake: ['Date'] });
    const aws = await fakeAws(deadLetters(1));
    expect(await replayer().run(settings(), 10_000)).toEqual(summaryOf({}));
    expect(aws.calls).toEqual([]);
    await replayer().run(settings(), 10_200);
    expect(aws.named('ReceiveMessage')[0]).toMatchObject({ WaitTimeSeconds: 1, VisibilityTimeout: 31 });
  });

  it('produces to targetTopic instead, letting the producer choose the partition', async () => {
    await fakeAws(deadLetters(2));
    const producer = fakeProducer();
    await replayer(producer).run(settings({ targetTopic: 'retry-topic' }), later());
    expect(producer.batches[0]!.topicMessages!.map((t) => [t.topic, t.messages.map((m) => m.partition)])).toEqual([
      ['retry-topic', [undefined, undefined]],
    ]);
  });

  it('keeps a record on its own partition when targetTopic is its own topic, one produce call per topic-partition', async () => {
    const messages = [...envelopes(1, 'a'), ...envelopes(1, 'b'), ...envelopes(2, 'a').slice(1)].map((e, i) => sqsMessage(e, i));
    await fakeAws(messages);
    const producer = fakeProducer();
    await replayer(producer).run(settings(), later());
    expect(producer.batches.map((b) => b.topicMessages!.map((t) => [t.topic, t.messages.length]))).toEqual([[['a', 2]], [['b', 1]]]);
    const own = fakeProducer();
    await fakeAws(deadLetters(1, 0, 'a'));
    await replayer(own).run(settings({ targetTopic: 'a' }), later());
    expect(own.batches[0]!.topicMessages![0]!.messages[0]!.partition).toBe(0);
  });

  it('leaves dead letters outside the filter in the queue, visible again at once', async () => {
    const messages = [
      sqsMessage(envelopes(1, 'a')[0]!, 0),
      sqsMessage({ ...envelopes(1, 'b')[0]!, error: { type: 'TimeoutError', message: 'm' } }, 1),
      sqsMessage({ ...envelopes(1, 'a')[0]!, error: { type: 'TimeoutError', message: 'm' } }, 2),
    ];
    const aws = await fakeAws(messages);
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings({ filter: { topic: 'a', errorType: 'TimeoutError' } }), later());
    expect(summary).toEqual(summaryOf({ received: 3, replayed: 1, skipped: 2 }));
    expect(aws.named('DeleteMessageBatch')).toEqual([{ QueueUrl: 'https://sqs/dlq', Entries: [{ Id: '0', ReceiptHandle: 'rh2' }] }]);
    expect(aws.named('ChangeMessageVisibilityBatch')).toEqual([
      {
        QueueUrl: 'https://sqs/dlq',
        Entries: [
          { Id: '0', ReceiptHandle: 'rh0', VisibilityTimeout: 0 },
          { Id: '1', ReceiptHandle: 'rh1', VisibilityTimeout: 0 },
        ],
      },
    ]);

    await fakeAws(messages);
    expect(await replayer().run(settings({ filter: { topic: 'b' } }), later())).toMatchObject({ replayed: 1, skipped: 2 });
    await fakeAws(messages);
    expect(await replayer().run(settings({ filter: { errorType: 'Error' } }), later())).toMatchObject({ replayed: 1, skipped: 2 });
  });

  it('leaves a dead letter replayed as often as the limit allows, saying so', async () => {
    await fakeAws([...deadLetters(1, 2), ...deadLetters(2, 3).slice(1)]);
    const summary = await replayer().run(settings(), later());
    expect(summary).toEqual(
      summaryOf({
        received: 2,
        replayed: 1,
        skipped: 1,
        errors: [{ messageId: 'm1', topic: 't', partition: 0, offset: 1, reason: 'replayed 3 times already (limit 3); left in the queue' }],
      }),
    );
  });

  it('counts a message that is not a dead letter as failed, naming it, and leaves it', async () => {
    const aws = await fakeAws([sqsMessage('hello', 0), { ...sqsMessage('{}', 1), MessageId: undefined }]);
    const producer = fakeProducer();
    expect(await replayer(producer).run(settings(), later())).toEqual(
      summaryOf({
        received: 2,
        failed: 2,
        errors: [
          { messageId: 'm0', reason: 'malformed dead letter: the body is not JSON' },
          { messageId: '?', reason: 'malformed dead letter: unsupported envelope version undefined (this code reads version 1)' },
        ],
      }),
    );
    expect(producer.connects()).toBe(0);
    expect(aws.named('ChangeMessageVisibilityBatch')[0]!.Entries!.map((e) => e.ReceiptHandle)).toEqual(['rh0', 'rh1']);
  });

  it('in a dry run, counts what it would replay, connects to nothing, deletes nothing, and leaves everything visible', async () => {
    const aws = await fakeAws(deadLetters(2));
    const producer = fakeProducer();
    expect(await replayer(producer).run(settings({ dryRun: true }), later())).toEqual(
      summaryOf({ received: 2, replayed: 2, dryRun: true, contents: expect.objectContaining({ byTopic: { t: 2 } }) }),
    );
    expect(producer.connects()).toBe(0);
    expect(aws.named('DeleteMessageBatch')).toEqual([]);
    expect(aws.named('ChangeMessageVisibilityBatch')[0]!.Entries).toHaveLength(2);
  });

  it('leaves every dead letter of a batch it could not produce, with the reason', async () => {
    const aws = await fakeAws(deadLetters(2));
    const summary = await replayer(fakeProducer(new Error('broker down'))).run(settings(), later());
    expect(summary).toEqual(
      summaryOf({
        received: 2,
        failed: 2,
        errors: [0, 1].map((offset) => ({
          messageId: `m${offset}`,
          topic: 't',
          partition: 0,
          offset,
          reason: 'produce failed, left in the queue: broker down',
        })),
      }),
    );
    expect(aws.named('DeleteMessageBatch')).toEqual([]);
    expect(aws.named('ChangeMessageVisibilityBatch')[0]!.Entries!.map((e) => e.ReceiptHandle)).toEqual(['rh0', 'rh1']);
  });

  it('retries a delete that failed, and reports one that never succeeds without copying it again', async () => {
    let deletes = 0;
    const aws = await fakeAws(
      deadLetters(2, 0).map((m) => ({ ...m, Attributes: { ...m.Attributes, ApproximateReceiveCount: '5' } })),
      {},
      (call) => {
        if (call.name !== 'DeleteMessageBatch') return undefined;
        deletes++;
        return {
          Failed: [{ Id: String(call.input.Entries!.length - 1), SenderFault: false, Code: 'InternalError', Message: 'try again' }],
        };
      },
    );
    const summary = await replayer().run(settings(), later());
    expect(summary).toMatchObject({ received: 2, replayed: 2, failed: 0 });
    expect(summary.errors).toEqual([
      {
        messageId: 'm1',
        topic: 't',
        partition: 0,
        offset: 1,
        reason: 'replayed, but not deleted from the queue (it may be replayed again): InternalError: try again',
      },
    ]);
    expect(deletes).toBe(3);
    expect(aws.named('SendMessageBatch')).toEqual([]); // produced already: a copy would replay it once more
    expect(aws.named('ChangeMessageVisibilityBatch')[0]!.Entries!.map((e) => e.ReceiptHandle)).toEqual(['rh1']);
  });

  it("reads a pointer's envelope from S3, and refuses a pointer to another pointer", async () => {
    const [envelope] = envelopes(1);
    const pointer = (key: string): DeadLetterPointer => ({
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: 'b', key },
      record: { topic: 't', partition: 0, offset: 0 },
      error: { type: 'Error', message: 'x' },
      replayCount: 0,
    });
    const aws = await fakeAws([sqsMessage(pointer('full'), 0), sqsMessage(pointer('again'), 1)], {
      'b/full': JSON.stringify(envelope),
      'b/again': JSON.stringify(pointer('full')),
    });
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings(), later());
    expect(aws.named('GetObject')).toEqual([
      { Bucket: 'b', Key: 'full' },
      { Bucket: 'b', Key: 'again' },
    ]);
    expect(summary).toMatchObject({
      received: 2,
      replayed: 1,
      failed: 1,
      errors: [{ messageId: 'm1', reason: 'malformed dead letter: s3://b/again holds another pointer' }],
    });
    expect(producer.batches[0]!.topicMessages![0]!.messages).toHaveLength(1);
  });
});

describe('DlqReplayer re-enqueues what it leaves after a second receive', () => {
  // SQS stops counting a message in ApproximateAgeOfOldestMessage once it has been received three
  // times (SQS developer guide, CloudWatch metrics for Amazon SQS).
  const received = (times: number, messages: Message[]) =>
    messages.map((m) => ({ ...m, Attributes: { ...m.Attributes, ApproximateReceiveCount: String(times) } }));

  it('sends a copy carrying the first enqueue time, then deletes the original', async () => {
    const copyOfCopy = {
      ...sqsMessage(envelopes(2)[1]!, 1),
      MessageAttributes: { [FIRST_SENT_ATTRIBUTE]: { DataType: 'Number', StringValue: '123' } },
    };
    const first = sqsMessage(envelopes(1)[0]!, 0);
    const aws = await fakeAws(received(2, [first, copyOfCopy]));
    const summary = await replayer().run(settings({ dryRun: true }), later());
    expect(summary.errors).toEqual([]);
    const [send] = aws.named('SendMessageBatch');
    expect(send!.Entries!.map((e) => [e.Id, e.MessageBody, e.MessageAttributes])).toEqual([
      ['0', first.Body, { [FIRST_SENT_ATTRIBUTE]: { DataType: 'Number', StringValue: '1700000000000' } }],
      ['1', copyOfCopy.Body, { [FIRST_SENT_ATTRIBUTE]: { DataType: 'Number', StringValue: '123' } }],
    ]);
    expect(aws.named('DeleteMessageBatch')).toEqual([
      {
        QueueUrl: 'https://sqs/dlq',
        Entries: [
          { Id: '0', ReceiptHandle: 'rh0' },
          { Id: '1', ReceiptHandle: 'rh1' },
        ],
      },
    ]);
    expect(aws.named('ChangeMessageVisibilityBatch')).toEqual([]);
  });

  it('leaves a dead letter received once as it is, visible again', async () => {
    const aws = await fakeAws(received(1, deadLetters(1)));
    await replayer().run(settings({ dryRun: true }), later());
    expect(aws.named('SendMessageBatch')).toEqual([]);
    expect(aws.named('ChangeMessageVisibilityBatch')).toHaveLength(1);
  });

  it('copies at most 10 a call, and makes visible at most 10 a call', async () => {
    const aws = await fakeAws(received(3, deadLetters(23)));
    await replayer().run(settings({ dryRun: true }), later());
    expect(aws.named('SendMessageBatch').map((s) => s.Entries!.length)).toEqual([10, 10, 3]);

    const visible = await fakeAws(received(1, deadLetters(23)));
    await replayer().run(settings({ dryRun: true }), later());
    expect(visible.named('ChangeMessageVisibilityBatch').map((s) => s.Entries!.map((e) => e.Id))).toEqual([
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      ['0', '1', '2'],
    ]);
  });

  it('keeps copies under 1 MiB a call, counting bodies, attributes and the room for its own', async () => {
    const big = (i: number) => ({
      ...sqsMessage({ ...envelopes(i + 1)[i]!, error: { type: 'Error', message: 'm'.repeat(400_000) } }, i),
      MessageAttributes: { topic: { DataType: 'String', StringValue: 't' } },
    });
    const aws = await fakeAws(received(2, [big(0), big(1), big(2)]));
    await replayer().run(settings({ dryRun: true }), later());
    expect(aws.named('SendMessageBatch').map((s) => s.Entries!.map((e) => e.Id))).toEqual([['0', '1'], ['0']]);
  });

  it('puts an offloaded envelope in S3 again before sending its pointer again', async () => {
    const [envelope] = envelopes(1);
    const pointer: DeadLetterPointer = {
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: 'b', key: 'k' },
      record: { topic: 't', partition: 0, offset: 0 },
      error: { type: 'Error', message: 'x' },
      replayCount: 0,
    };
    const aws = await fakeAws(received(2, [sqsMessage(pointer, 0)]), { 'b/k': JSON.stringify(envelope) });
    await replayer().run(settings({ dryRun: true }), later());
    expect(aws.calls.map((c) => c.name)).toEqual([
      'ReceiveMessage',
      'GetObject',
      'ReceiveMessage',
      'PutObject',
      'SendMessageBatch',
      'DeleteMessageBatch',
    ]);
    expect(aws.named('PutObject')).toEqual([{ Bucket: 'b', Key: 'k', Body: JSON.stringify(envelope), ContentType: 'application/json' }]);
  });

  it('makes visible, with a reason, a dead letter it could not copy: S3 put, send or delete failed', async () => {
    const reason =
      'left in the queue but not re-enqueued: once received 3 times, SQS stops counting its age for the oldest-dead-letter alarm';
    const [envelope] = envelopes(1);
    const pointer: DeadLetterPointer = {
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: 'b', key: 'k' },
      record: { topic: 't', partition: 0, offset: 0 },
      error: { type: 'Error', message: 'x' },
      replayCount: 0,
    };
    const putFails = await fakeAws(
      received(2, [sqsMessage(pointer, 0), ...deadLetters(2).slice(1)]),
      { 'b/k': JSON.stringify(envelope) },
      (call) => {
        if (call.name === 'PutObject') throw new Error('denied');
        return undefined;
      },
    );
    expect((await replayer().run(settings({ dryRun: true }), later())).errors).toEqual([{ messageId: 'm0', reason }]);
    expect(putFails.named('SendMessageBatch')[0]!.Entries!.map((e) => e.Id)).toEqual(['0']); // the other one
    expect(putFails.named('ChangeMessageVisibilityBatch')[0]!.Entries!.map((e) => e.ReceiptHandle)).toEqual(['rh0']);

    const partly = await fakeAws(received(2, deadLetters(3)), {}, (call) =>
      call.name === 'SendMessageBatch' ? { Successful: [{ Id: '0' }, { Id: '2' }] } : undefined,
    );
    expect((await replayer().run(settings({ dryRun: true }), later())).errors).toEqual([{ messageId: 'm1', reason }]);
    expect(partly.named('DeleteMessageBatch')[0]!.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'rh0' },
      { Id: '1', ReceiptHandle: 'rh2' },
    ]);
    expect(partly.named('ChangeMessageVisibilityBatch')[0]!.Entries!.map((e) => e.ReceiptHandle)).toEqual(['rh1']);

    await fakeAws(received(2, deadLetters(2)), {}, (call) => {
      if (call.name === 'SendMessageBatch') throw new Error('throttled');
      return undefined;
    });
    expect((await replayer().run(settings({ dryRun: true }), later())).errors).toEqual([
      { messageId: 'm0', reason },
      { messageId: 'm1', reason },
    ]);

    const deleteFails = await fakeAws(received(2, deadLetters(2)), {}, (call) => {
      if (call.name === 'DeleteMessageBatch') return { Failed: [{ Id: '1' }] };
      return undefined;
    });
    expect((await replayer().run(settings({ dryRun: true }), later())).errors).toEqual([{ messageId: 'm1', reason }]);
    expect(deleteFails.named('ChangeMessageVisibilityBatch')[0]!.Entries!.map((e) => e.ReceiptHandle)).toEqual(['rh1']);

    await fakeAws(received(2, deadLetters(2)), {}, (call) => {
      if (call.name === 'DeleteMessageBatch') throw new Error('down');
      return undefined;
    });
    expect((await replayer().run(settings({ dryRun: true }), later())).errors).toEqual([
      { messageId: 'm0', reason },
      { messageId: 'm1', reason },
    ]);
  });

  it('still answers when making messages visible fails: they become visible after the timeout anyway', async () => {
    await fakeAws(deadLetters(1), {}, (call) => {
      if (call.name === 'ChangeMessageVisibilityBatch') throw new Error('down');
      return undefined;
    });
    expect(await replayer().run(settings({ dryRun: true }), later())).toMatchObject({ received: 1, replayed: 1 });
  });
});

describe('DlqReplayer, edge cases', () => {
  it('by default retries a delete SQS failed on its side up to 5 attempts, and a sender fault not at all', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // no backoff delay
    const failing = (SenderFault?: boolean) => (call: { name: string; input: { Entries?: unknown[] } }) =>
      call.name === 'DeleteMessageBatch'
        ? { Failed: [{ Id: '0', ...(SenderFault === undefined ? {} : { SenderFault, Code: 'ReceiptHandleIsInvalid' }) }] }
        : undefined;
    const own = await fakeAws(deadLetters(1), {}, failing());
    const summary = await new DlqReplayer({ queueUrl: 'q', producer: fakeProducer().connect, replayLimit: 3, receivers: 1 }).run(
      settings(),
      later(),
    );
    expect(own.named('DeleteMessageBatch')).toHaveLength(5);
    expect(summary.errors[0]!.reason).toBe('replayed, but not deleted from the queue (it may be replayed again): Unknown');
    const sender = await fakeAws(deadLetters(1), {}, failing(true));
    await new DlqReplayer({ queueUrl: 'q', producer: fakeProducer().connect, replayLimit: 3, receivers: 1 }).run(settings(), later());
    expect(sender.named('DeleteMessageBatch')).toHaveLength(1);
  });

  it('takes a receive that holds no Messages as drained, and a message with no body as malformed', async () => {
    const empty = await fakeAws([], {}, (call) => (call.name === 'ReceiveMessage' ? {} : undefined));
    expect(await replayer().run(settings(), later())).toEqual(summaryOf({}));
    expect(empty.named('ReceiveMessage')).toHaveLength(1);
    await fakeAws([{ MessageId: 'm0', ReceiptHandle: 'rh0' }]);
    expect((await replayer().run(settings(), later())).errors).toEqual([
      { messageId: 'm0', reason: 'malformed dead letter: the body is not JSON' },
    ]);
  });

  it('makes a dead letter at the replay limit visible again', async () => {
    const aws = await fakeAws(deadLetters(1, 3));
    await replayer().run(settings(), later());
    expect(aws.named('ChangeMessageVisibilityBatch')[0]!.Entries!.map((e) => e.ReceiptHandle)).toEqual(['rh0']);
  });

  it('makes visible exactly one call for 10 messages', async () => {
    const aws = await fakeAws(deadLetters(10));
    await replayer().run(settings({ dryRun: true }), later());
    expect(aws.named('ChangeMessageVisibilityBatch')).toHaveLength(1);
  });

  it('names a message without an id as "?"', async () => {
    await fakeAws(deadLetters(1).map((m) => ({ ...m, MessageId: undefined })));
    expect((await replayer(fakeProducer(new Error('down'))).run(settings(), later())).errors[0]!.messageId).toBe('?');
  });

  it('leaves a message SQS gave without attributes as it is', async () => {
    const aws = await fakeAws(deadLetters(1).map((m) => ({ ...m, Attributes: undefined })));
    await replayer().run(settings({ dryRun: true }), later());
    expect(aws.named('SendMessageBatch')).toEqual([]);
    expect(aws.named('ChangeMessageVisibilityBatch')).toHaveLength(1);
  });

  it('fills a copy call up to exactly 1 MiB, counting bodies, attributes and the room for its own attribute', async () => {
    // Not dead letters at all (left as malformed), so that the body length is free: each counts
    // its body, "topic" + "String" + "t" (12) and the 64 bytes kept for dlqFirstSentAt.
    const half = 1_048_576 / 2 - 12 - 64;
    const message = (i: number, bodyBytes: number) => ({
      ...sqsMessage('x'.repeat(bodyBytes), i, { ApproximateReceiveCount: '2' }),
      MessageAttributes: { topic: { DataType: 'String', StringValue: 't' } },
    });
    const exact = await fakeAws([message(0, half), message(1, half)]);
    await replayer().run(settings({ dryRun: true }), later());
    expect(exact.named('SendMessageBatch').map((s) => s.Entries!.length)).toEqual([2]);
    const over = await fakeAws([message(0, half), message(1, half + 1)]);
    await replayer().run(settings({ dryRun: true }), later());
    expect(over.named('SendMessageBatch').map((s) => s.Entries!.length)).toEqual([1, 1]);
  });

  it("sends nothing when the only copy's S3 put failed, and deletes nothing when no copy was sent", async () => {
    const pointer: DeadLetterPointer = {
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: 'b', key: 'k' },
      record: { topic: 't', partition: 0, offset: 0 },
      error: { type: 'Error', message: 'x' },
      replayCount: 0,
    };
    const putFails = await fakeAws(
      [sqsMessage(pointer, 0, { ApproximateReceiveCount: '2' })],
      { 'b/k': JSON.stringify(envelopes(1)[0]) },
      (call) => {
        if (call.name === 'PutObject') throw new Error('denied');
        return undefined;
      },
    );
    await replayer().run(settings({ dryRun: true }), later());
    expect(putFails.named('SendMessageBatch')).toEqual([]);
    const refused = await fakeAws(
      deadLetters(1).map((m) => ({ ...m, Attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1' } })),
      {},
      (call) => (call.name === 'SendMessageBatch' ? {} : undefined),
    );
    expect((await replayer().run(settings({ dryRun: true }), later())).errors).toHaveLength(1);
    expect(refused.named('DeleteMessageBatch')).toEqual([]);
  });
});

// Issue 28: the queue source fed what anyone who can send to the DLQ (the consumer's own role can)
// puts there, and an SQS and a Kafka that fail part of the time.
describe('DlqReplayer and hostile or odd dead letters', () => {
  const producedKeys = (producer: ReturnType<typeof fakeProducer>) => producer.batches.flatMap((b) => b.topicMessages!.map((t) => t.topic));

  // Class 1: REPLAY_ALLOWED_TOPICS was checked against targetTopic only.
  it('leaves a dead letter whose topic is outside the allowlist, naming the topic, and replays the others of its batch', async () => {
    const messages = [...envelopes(1, 't'), ...envelopes(2, 'payments-internal').slice(1), ...envelopes(3, 't').slice(2)].map((e, i) =>
      sqsMessage(e, i),
    );
    const aws = await fakeAws(messages);
    const producer = fakeProducer();
    const summary = await replayer(producer).run(settings({ allowedTopics: ['t', 'u'] }), later());
    expect(summary).toMatchObject({ received: 3, replayed: 2, failed: 1 });
    expect(summary.errors).toEqual([
      {
        messageId: 'm1',
        topic: 'payments-internal',
        partition: 0,
        offset: 1,
        reason: 'its topic "payments-internal" is not one this replay may produce to (REPLAY_ALLOWED_TOPICS: t, u); left in the queue',
      },
    ]);
    expect(producedKeys(producer)).toEqual(['t']);
    expect(aws.named('DeleteMessageBatch').flatMap((d) => d.Entries!.map((e) => e.ReceiptHandle))).toEqual(['rh0', 'rh2']);
    expect(aws.named('ChangeMessageVisibilityBatch').flatMap((c) => c.Entries!.map((e) => e.ReceiptHandle))).toEqual(['rh1']);
  });

  // Class 7: one sendBatch over two topics failed whole, though one of them was written.
  it('produces each topic-partition on its own: a failure leaves exactly the records it did not write', async () => {
    const messages = [...envelopes(1, 'a'), ...envelopes(1, 'b')].map((e, i) => sqsMessage(e, i));
    const aws = await fakeAws(messages);
    const batches: ProducerBatch[] = [];
    const producer = {
      sendBatch: async (batch: ProducerBatch) => {
        if (batch.topicMessages!.some((t) => t.topic === 'b')) throw new Error('TOPIC_AUTHORIZATION_FAILED');
        batches.push(batch);
        return [];
      },
    } as unknown as Producer;
    const summary = await new DlqReplayer({
      queueUrl: 'q',
      producer: async () => producer,
      replayLimit: 3,
      receivers: 1,
      retry: noDelay,
    }).run(settings(), later());
    expect(summary).toMatchObject({
      received: 2,
      replayed: 1,
      failed: 1,
      errors: [{ messageId: 'm1', topic: 'b', reason: 'produce failed, left in the queue: TOPIC_AUTHORIZATION_FAILED' }],
    });
    expect(batches.map((b) => b.topicMessages![0]!.topic)).toEqual(['a']);
    expect(aws.named('DeleteMessageBatch').flatMap((d) => d.Entries!.map((e) => e.ReceiptHandle))).toEqual(['rh0']);
  });

  // Class 7: one throttled ReceiveMessage made the run throw without a summary.
  it('produces several receives as one round: one call per topic-partition carrying them all, deletes 10 a call', async () => {
    const aws = await fakeAws(deadLetters(25));
    const producer = fakeProducer();
    expect(await replayer(producer).run(settings(), later())).toEqual(summaryOf({ received: 25, replayed: 25 }));
    expect(aws.named('ReceiveMessage').map((i) => i.MaxNumberOfMessages)).toEqual([10, 10, 10, 10]); // 10, 10, 5: the round; then none
    expect(producer.batches.map((b) => b.topicMessages!.map((t) => t.messages.length))).toEqual([[25]]);
    expect(aws.named('DeleteMessageBatch').map((c) => c.Entries!.length)).toEqual([10, 10, 5]);
  });

  it('ends a round at 50 dead letters, and at the deadline', async () => {
    const producer = fakeProducer();
    await fakeAws(deadLetters(120));
    await replayer(producer).run(settings({ maxMessages: 200 }), later());
    expect(producer.batches.map((b) => b.topicMessages![0]!.messages.length)).toEqual([50, 50, 20]);

    vi.useFakeTimers({ now: 0, toFake: ['Date'] });
    const aws = await fakeAws(deadLetters(100), {}, (call) => {
      if (call.name === 'ReceiveMessage') vi.setSystemTime(Date.now() + 1_000); // each receive takes a second
    });
    expect(await replayer().run(settings(), 3_000)).toMatchObject({ received: 30, replayed: 30 });
    expect(aws.named('ReceiveMessage')).toHaveLength(3); // at 0, 1 and 2 s; none at the deadline
  });

  it('replays what a round received before a receive gave up, then says the receiver stopped', async () => {
    let receives = 0;
    const aws = await fakeAws(deadLetters(30), {}, (call) => {
      if (call.name === 'ReceiveMessage' && ++receives >= 3)
        throw Object.assign(new Error('Access to the resource is denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    });
    const summary = await replayer().run(settings(), later());
    expect(summary).toMatchObject({ received: 20, replayed: 20, failed: 0 });
    expect(summary.errors).toEqual([
      { reason: 'a receiver stopped: Access to the resource is denied; what it had not received stays in the queue' },
    ]);
    expect(aws.named('DeleteMessageBatch').flatMap((c) => c.Entries!)).toHaveLength(20);
  });

  it('retries a throttled receive with backoff', async () => {
    let receives = 0;
    await fakeAws(deadLetters(2), {}, (call) => {
      if (call.name === 'ReceiveMessage' && ++receives === 1)
        throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    });
    expect(await replayer().run(settings(), later())).toEqual(summaryOf({ received: 2, replayed: 2 }));
  });

  it('answers with a summary and leaves what it leaves when a receiver gives up, while the others finish', async () => {
    let receives = 0;
    const aws = await fakeAws(deadLetters(12, 0, 'x'), {}, (call) => {
      if (call.name === 'ReceiveMessage' && ++receives > 1)
        throw Object.assign(new Error('Access to the resource is denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    });
    const summary = await replayer(fakeProducer(), { receivers: 2 }).run(settings(), later());
    expect(summary).toMatchObject({ received: 10, failed: 10 }); // topic x: outside the allowlist, all left
    expect(summary.errors.filter((e) => e.reason.startsWith('a receiver stopped'))).toEqual([
      { reason: 'a receiver stopped: Access to the resource is denied; what it had not received stays in the queue' },
      { reason: 'a receiver stopped: Access to the resource is denied; what it had not received stays in the queue' },
    ]);
    expect(aws.named('ChangeMessageVisibilityBatch').flatMap((c) => c.Entries!)).toHaveLength(10);
  });

  // Class 4: header names that are Object.prototype keys broke the grouping of headers by name.
  it('replays headers named __proto__, constructor and toString, in order', async () => {
    const [base] = envelopes(1);
    const headers = ['__proto__', 'constructor', 'toString', '__proto__'].map((name, i) => ({
      name,
      value: Buffer.from([i]).toString('base64'),
    }));
    await fakeAws([sqsMessage({ ...base!, record: { ...base!.record, headers } }, 0)]);
    const producer = fakeProducer();
    expect(await replayer(producer).run(settings(), later())).toMatchObject({ replayed: 1, failed: 0 });
    const message = producer.batches[0]!.topicMessages![0]!.messages[0]!;
    expect(message.orderedHeaders!.slice(0, 4).map((h) => [h.key, [...h.value!]])).toEqual([
      ['__proto__', [0]],
      ['constructor', [1]],
      ['toString', [2]],
      ['__proto__', [3]],
    ]);
    expect(Object.keys(message.headers!)).toEqual([
      '__proto__',
      'constructor',
      'toString',
      'x-dlq-replay-count',
      'x-dlq-original-topic',
      'x-dlq-original-offset',
      'x-dlq-original-partition',
      'x-dlq-original-timestamp',
    ]);
  });

  // Class 9: S3 read errors were reported as "malformed dead letter".
  it('names a pointer whose envelope S3 could not give a read error, not a malformed dead letter', async () => {
    const pointer: DeadLetterPointer = {
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: 'b', key: 'k' },
      record: { topic: 't', partition: 0, offset: 0 },
      error: { type: 'Error', message: 'x' },
      replayCount: 0,
    };
    await fakeAws([sqsMessage(pointer, 0)], {}, (call) => {
      if (call.name === 'GetObject')
        throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    });
    expect(await replayer().run(settings(), later())).toMatchObject({
      failed: 1,
      errors: [{ messageId: 'm0', reason: 'could not read the envelope its pointer names from S3: Service Unavailable' }],
    });
  });
});
