import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadS3, loadSqs } from '../../../src/runtime/aws-clients.js';
import {
  DeadLetterWriter,
  SQS_MAX_BYTES,
  awsDeadLetterTransport,
  deadLetterSent,
  type DeadLetterTransport,
} from '../../../src/runtime/dead-letter-writer.js';
import { RENEWAL_ATTRIBUTES_BYTES } from '../../../src/contract/index.js';
import { ConfigurationError } from '../../../src/contract/errors.js';
import type { DeadLetterEnvelope, DeadLetterPointer } from '../../../src/runtime/envelope.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { envelopes, fakeTransport, refuseAll } from '../../support/dead-letter-transport.js';
import { fresh } from '../../support/fresh.js';
import type * as DeadLetterWriterModule from '../../../src/runtime/dead-letter-writer.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** No waiting between retries: the tests count attempts, not time. */
const noDelay = (maxAttempts = 3, isRetryable?: (e: unknown) => boolean) =>
  new RetryPolicy({ maxAttempts, baseDelayMs: 0, maxDelayMs: 0, ...(isRetryable ? { isRetryable } : {}) });

// SQS counts a message's size as its body plus each attribute's name, type and value
// (docs/aws-contracts.md §4); the writer sets two String attributes, topic and errorType.
const sqsSize = (e: DeadLetterEnvelope) =>
  Buffer.byteLength(JSON.stringify(e)) +
  'topic'.length +
  'String'.length +
  Buffer.byteLength(e.record.topic) +
  'errorType'.length +
  'String'.length +
  Buffer.byteLength(e.error.type);

/** An envelope (no stack) whose SQS size is exactly `bytes`, padded with `fill` characters. */
function envelopeOfSize(offset: number, bytes: number, fill = 'm'): DeadLetterEnvelope {
  const base = { ...envelopes(offset + 1)[offset]!, error: { type: 'Error', message: '' } };
  const room = bytes - sqsSize(base);
  const fillBytes = Buffer.byteLength(fill);
  return { ...base, error: { type: 'Error', message: fill.repeat(Math.floor(room / fillBytes)) + 'm'.repeat(room % fillBytes) } };
}

const offsetsOf = (entries: Array<{ MessageBody: string }>) =>
  entries.map((e) => (JSON.parse(e.MessageBody) as DeadLetterEnvelope).record.offset);

describe('DeadLetterWriter', () => {
  it('takes a deadline that is not a whole number of milliseconds (AbortSignal.timeout would throw on a fraction)', async () => {
    const { transport, sends } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, deadline: Date.now() + 992.125 });
    for (const e of envelopes(3)) writer.add(e);
    expect(await writer.flush()).toMatchObject({ sent: 3, unsent: [] });
    expect(sends[0]!.signal.aborted).toBe(false);
  });

  it('bounds sends that started before the flush by the deadline given at creation, and reports them unsent', async () => {
    const transport: DeadLetterTransport = {
      // Never answers: only the abort signal ends the call.
      sendMessageBatch: (_url, _entries, signal) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      async putObject() {},
    };
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, deadline: Date.now() + 200 });
    for (const e of envelopes(10)) writer.add(e); // a full batch: sent at once, long before the flush
    const { sent, unsent } = await writer.flush();
    expect(sent).toBe(0);
    expect(unsent.map((u) => u.envelope.record.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('without a deadline, gives every call a signal that never aborts', async () => {
    const { transport, sends } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport });
    writer.add(envelopes(1)[0]!);
    await writer.flush();
    expect(sends[0]!.signal.aborted).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sends[0]!.signal.aborted).toBe(false);
  });

  it('sends to its queue, each message with the topic and error type as String attributes', async () => {
    const { transport, sends } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'https://sqs/dlq', transport });
    const [plain, long, unnamed] = envelopes(3, 'orders');
    writer.add(plain!);
    writer.add({ ...long!, error: { type: 'E'.repeat(300), message: 'm' } });
    writer.add({ ...unnamed!, error: { type: '', message: 'm' } });
    await writer.flush();
    expect(sends.map((s) => s.queueUrl)).toEqual(['https://sqs/dlq']);
    expect(sends[0]!.entries.map((e) => e.Id)).toEqual(['0', '1', '2']);
    expect(JSON.parse(sends[0]!.entries[0]!.MessageBody)).toEqual(plain);
    expect(sends[0]!.entries.map((e) => e.MessageAttributes)).toEqual([
      { topic: { DataType: 'String', StringValue: 'orders' }, errorType: { DataType: 'String', StringValue: 'Error' } },
      { topic: { DataType: 'String', StringValue: 'orders' }, errorType: { DataType: 'String', StringValue: 'E'.repeat(256) } },
      { topic: { DataType: 'String', StringValue: 'orders' }, errorType: { DataType: 'String', StringValue: 'Error' } },
    ]);
  });

  it('nothing added, nothing sent', async () => {
    const { transport, sends } = fakeTransport();
    expect(await new DeadLetterWriter({ queueUrl: 'q', transport }).flush()).toEqual({ sent: 0, unsent: [], calls: 0 });
    expect(sends).toEqual([]);
  });
});

describe('DeadLetterWriter batching', () => {
  // SQS: a SendMessageBatch holds at most 10 entries and 1 MiB in all (docs/aws-contracts.md §4); over that
  // the whole call fails (TooManyEntriesInBatchRequest, BatchRequestTooLong) and the records
  // would be redelivered for ever.
  it('sends a full batch of 10 at once, while the invocation still runs, and the rest at the flush', async () => {
    const { transport, sends } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport });
    const all = envelopes(25);
    for (const e of all.slice(0, 9)) writer.add(e);
    expect(sends).toHaveLength(0);
    writer.add(all[9]!);
    expect(sends).toHaveLength(1);
    for (const e of all.slice(10)) writer.add(e);
    expect(sends).toHaveLength(2);
    expect(await writer.flush()).toEqual({ sent: 25, unsent: [], calls: 3 });
    expect(sends.map((s) => offsetsOf(s.entries))).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      [20, 21, 22, 23, 24],
    ]);
  });

  it('splits calls so that none carries more than 1 MiB', async () => {
    const { sends, transport } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport });
    for (const e of envelopes(3)) writer.add({ ...e, error: { type: 'Error', message: 'm'.repeat(400_000) } }); // ~530 KB bodies (message + stack-free)
    expect(await writer.flush()).toMatchObject({ sent: 3, unsent: [] });
    expect(sends.map((s) => offsetsOf(s.entries))).toEqual([[0, 1], [2]]);
  });

  it('fills a call up to exactly 1 MiB, counting attributes as SQS does, and not a byte more', async () => {
    const half = SQS_MAX_BYTES / 2;
    const exact = fakeTransport();
    const full = new DeadLetterWriter({ queueUrl: 'q', transport: exact.transport });
    full.add(envelopeOfSize(0, half));
    full.add(envelopeOfSize(1, half));
    full.add(envelopeOfSize(2, 1_000));
    await full.flush();
    expect(exact.sends.map((s) => offsetsOf(s.entries))).toEqual([[0, 1], [2]]);

    const over = fakeTransport();
    const split = new DeadLetterWriter({ queueUrl: 'q', transport: over.transport });
    split.add(envelopeOfSize(0, half));
    split.add(envelopeOfSize(1, half + 1));
    await split.flush();
    expect(over.sends.map((s) => offsetsOf(s.entries))).toEqual([[0], [1]]);
  });

  it('counts bytes, not characters: multi-byte text fills a call sooner', async () => {
    const { sends, transport } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport });
    // 300,000 characters of 'é' are 600,000 bytes: two such dead letters do not fit in one call.
    for (const e of envelopes(2)) writer.add({ ...e, error: { type: 'Error', message: 'é'.repeat(300_000) } });
    await writer.flush();
    expect(sends.map((s) => offsetsOf(s.entries))).toEqual([[0], [1]]);
  });

  it('keeps at most `concurrency` calls in flight, and starts the next as one ends', async () => {
    let inFlight = 0;
    let most = 0;
    const releases: Array<() => void> = [];
    const transport: DeadLetterTransport = {
      async sendMessageBatch() {
        most = Math.max(most, ++inFlight);
        await new Promise<void>((resolve) => releases.push(resolve));
        inFlight--;
        return { failed: [] };
      },
      async putObject() {},
    };
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, concurrency: 2 });
    for (const e of envelopes(40)) writer.add(e);
    expect(releases).toHaveLength(2);
    const flushed = writer.flush();
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    expect(await flushed).toEqual({ sent: 40, unsent: [], calls: 4 });
    expect(most).toBe(2);
  });
});

describe('DeadLetterWriter Failed[] entries', () => {
  it('retries only the entries SQS reports as failed, and counts as sent only what it accepted', async () => {
    const { sends, transport, accepted } = fakeTransport((call, entries) =>
      call === 1
        ? [
            { Id: entries[1]!.Id, SenderFault: false, Code: 'InternalError' },
            { Id: entries[3]!.Id, SenderFault: false, Code: 'ServiceUnavailable' },
          ]
        : [],
    );
    const published: DeadLetterEnvelope[] = [];
    const listen = (message: unknown) => void published.push(message as DeadLetterEnvelope);
    subscribe(deadLetterSent.name, listen);
    try {
      const writer = new DeadLetterWriter({ queueUrl: 'q', transport, retry: noDelay() });
      for (const e of envelopes(5)) writer.add(e);
      expect(await writer.flush()).toEqual({ sent: 5, unsent: [], calls: 2 });
    } finally {
      unsubscribe(deadLetterSent.name, listen);
    }
    expect(sends.map((s) => offsetsOf(s.entries))).toEqual([
      [0, 1, 2, 3, 4],
      [1, 3],
    ]);
    expect(sends[1]!.entries.map((e) => e.Id)).toEqual(['0', '1']); // ids restart with each call
    expect(accepted.map((e) => e.record.offset)).toEqual([0, 2, 4, 1, 3]);
    expect(published.map((e) => e.record.offset)).toEqual([0, 2, 4, 1, 3]);
  });

  it("retries entries SQS reports in Failed[] as its own fault, and gives up at once on the sender's", async () => {
    // A server-side failure whose code no name rule knows: only SenderFault says it is transient.
    const own = fakeTransport((call, entries) => (call === 1 ? refuseAll('InternalFailure', false)(call, entries) : []));
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport: own.transport, retry: noDelay() });
    for (const e of envelopes(2)) writer.add(e);
    expect(await writer.flush()).toMatchObject({ sent: 2, unsent: [] });
    expect(own.sends).toHaveLength(2);

    const refused = fakeTransport(refuseAll('InvalidMessageContents', true));
    const strict = new DeadLetterWriter({ queueUrl: 'q', transport: refused.transport });
    for (const e of envelopes(2)) strict.add(e);
    const result = await strict.flush();
    expect(result).toMatchObject({ sent: 0, calls: 1 });
    expect(result.unsent.map((u) => [u.envelope.record.offset, (u.error as Error).name, (u.error as Error).message])).toEqual([
      [0, 'InvalidMessageContents', 'InvalidMessageContents'],
      [1, 'InvalidMessageContents', 'InvalidMessageContents'],
    ]);
    expect(refused.sends).toHaveLength(1);
  });

  it('gives up on entries still failing after the last attempt, with the last error', async () => {
    const { sends, transport } = fakeTransport((call, entries) =>
      entries.map((e) => ({ Id: e.Id, SenderFault: false, Code: `Busy${call}`, Message: 'try later' })),
    );
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, retry: noDelay(4) });
    writer.add(envelopes(1)[0]!);
    const { sent, unsent, calls } = await writer.flush();
    expect([sent, calls, sends.length]).toEqual([0, 4, 4]);
    expect((unsent[0]!.error as Error).message).toBe('Busy4: try later');
  });

  it('by default retries throttles up to 6 attempts in all, but not a sender fault', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // no backoff delay
    const throttled = fakeTransport(refuseAll('ThrottlingException', false));
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport: throttled.transport });
    writer.add(envelopes(1)[0]!);
    expect(await writer.flush()).toMatchObject({ sent: 0, calls: 6 });

    const invalid = fakeTransport(refuseAll('InvalidParameterValue', true));
    const once = new DeadLetterWriter({ queueUrl: 'q', transport: invalid.transport });
    once.add(envelopes(1)[0]!);
    expect(await once.flush()).toMatchObject({ sent: 0, calls: 1 });
  });
});

describe('DeadLetterWriter S3 offload', () => {
  const sizeLimit = SQS_MAX_BYTES - RENEWAL_ATTRIBUTES_BYTES;

  it("sends a dead letter that leaves room for the replay's attribute to SQS, and one a byte larger to S3 with a pointer in SQS", async () => {
    vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] });
    const { sends, puts, transport } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', bucket: 'dlq-bucket', transport });
    const fits = envelopeOfSize(0, sizeLimit);
    const big = {
      ...envelopeOfSize(1, sizeLimit + 1),
      record: { ...envelopes(2)[1]!.record, topic: 'a/b c', partition: 4, offset: 77 },
      replayCount: 2,
    };
    writer.add(fits);
    writer.add(big);
    expect(await writer.flush()).toEqual({ sent: 2, unsent: [], calls: 3 });
    expect(puts).toEqual([{ bucket: 'dlq-bucket', key: 'dead-letters/a%2Fb%20c/4/77-1700000000000.json', body: JSON.stringify(big) }]);
    const bodies = sends.flatMap((s) => s.entries.map((e) => JSON.parse(e.MessageBody) as DeadLetterEnvelope | DeadLetterPointer));
    expect(bodies).toHaveLength(2);
    expect(bodies.find((b) => b.record.offset === 0)).toEqual(fits);
    expect(bodies.find((b) => b.record.offset === 77)).toEqual({
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: 'dlq-bucket', key: 'dead-letters/a%2Fb%20c/4/77-1700000000000.json' },
      record: { topic: 'a/b c', partition: 4, offset: 77 },
      error: { type: 'Error', message: 'm'.repeat(1_024) },
      replayCount: 2,
    });
  });

  it('sends the pointers of several oversized dead letters without going over 1 MiB a call', async () => {
    const { sends, puts, transport } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', bucket: 'b', transport });
    for (let i = 0; i < 3; i++) writer.add(envelopeOfSize(i, SQS_MAX_BYTES + 10));
    expect(await writer.flush()).toMatchObject({ sent: 3, unsent: [] });
    expect(puts).toHaveLength(3);
    expect(sends.map((s) => s.entries.length)).toEqual([1, 1, 1]);
  });

  it('without a bucket, reports an oversized dead letter as unsent, saying which setting is missing', async () => {
    const { sends, transport } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport });
    const [small] = envelopes(1);
    writer.add(small!);
    writer.add(envelopeOfSize(1, sizeLimit + 1));
    const { sent, unsent } = await writer.flush();
    expect(sent).toBe(1);
    expect(unsent.map((u) => u.envelope.record.offset)).toEqual([1]);
    expect((unsent[0]!.error as Error).message).toBe(
      `The dead letter of t-0@1 is ${sizeLimit + 1} bytes, over SQS's 1048576, and no DLQ_BUCKET is set to hold it.`,
    );
    expect(unsent[0]!.error).toBeInstanceOf(ConfigurationError);
    expect(sends.map((s) => offsetsOf(s.entries))).toEqual([[0]]);
  });

  it('retries a failed upload while it is transient, then reports the dead letter unsent and sends no pointer', async () => {
    const throttle = Object.assign(new Error('slow down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    const { sends, puts, transport } = fakeTransport(undefined, () => {
      throw throttle;
    });
    const writer = new DeadLetterWriter({ queueUrl: 'q', bucket: 'b', transport, retry: noDelay(3) });
    writer.add(envelopeOfSize(0, sizeLimit + 1));
    const { sent, unsent, calls } = await writer.flush();
    expect([sent, calls, puts.length, sends.length]).toEqual([0, 3, 3, 0]);
    expect(unsent[0]!.error).toBe(throttle);
  });

  it('uploads again after a transient failure, then sends the pointer', async () => {
    const { sends, puts, transport } = fakeTransport(undefined, (call) => {
      if (call === 1) throw Object.assign(new Error('x'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } });
    });
    const writer = new DeadLetterWriter({ queueUrl: 'q', bucket: 'b', transport, retry: noDelay(3) });
    writer.add(envelopeOfSize(0, sizeLimit + 1));
    expect(await writer.flush()).toEqual({ sent: 1, unsent: [], calls: 3 });
    expect(puts).toHaveLength(2);
    expect(JSON.parse(sends[0]!.entries[0]!.MessageBody).kind).toBe('kafka-dead-letter-pointer');
  });
});

// Issue 28, class 2: SQS refuses U+FFFE, U+FFFF (and control characters, lone surrogates) in a
// body or attribute (SendMessage, API reference); JSON.stringify leaves U+FFFE and U+FFFF as they
// are. An error message quoting a record made its dead letter unwritable, and the record jammed
// its partition. The fake transport refuses such entries as SQS does (InvalidMessageContents).
describe('DeadLetterWriter and the characters SQS refuses', () => {
  it('escapes them after JSON.stringify: SQS takes the body, and it parses to the exact envelope', async () => {
    const { transport, sends } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, retry: noDelay(1) });
    const base = envelopes(1)[0]!;
    const odd = '\uFFFF\uFFFE\uD800\uDC00\uDBFF\u0001\u0000 \\uFFFF \\\uFFFF é 😀';
    const envelope = {
      ...base,
      record: { ...base.record, headers: [{ name: odd, value: '' }] },
      error: { type: `Bad${odd}`, message: `Unexpected token '${odd}'`, stack: odd },
    };
    writer.add(envelope);
    expect(await writer.flush()).toMatchObject({ sent: 1, unsent: [] });
    const [entry] = sends[0]!.entries;
    expect(entry!.MessageBody).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(entry!.MessageBody)).toEqual(envelope);
    expect(entry!.MessageAttributes.errorType!.StringValue).toBe(
      'Bad\\uffff\\ufffe\\ud800\\udc00\\udbff\\u0001\\u0000 \\uFFFF \\\\uffff é 😀'.replace('\\ud800\\udc00', '\uD800\uDC00'),
    );
  });

  it('escapes them in the pointer of an offloaded dead letter too', async () => {
    const { transport, sends } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', bucket: 'b', transport, retry: noDelay(1) });
    const big = envelopeOfSize(0, SQS_MAX_BYTES + 10, '\uFFFF');
    writer.add(big);
    expect(await writer.flush()).toMatchObject({ sent: 1, unsent: [] });
    expect((JSON.parse(sends[0]!.entries[0]!.MessageBody) as DeadLetterPointer).error.message).toBe('\uFFFF'.repeat(1_024));
  });
});

// Issue 28, class 9: SQS counts attributes in bytes. Counted in UTF-16 units, a dead letter just
// under 1 MiB with a long multi-byte error name went inline and was refused, forever.
it('counts the attributes in bytes: a multi-byte error type can push a dead letter to S3', async () => {
  const { transport, puts } = fakeTransport();
  const writer = new DeadLetterWriter({ queueUrl: 'q', bucket: 'b', transport });
  const sizeLimit = SQS_MAX_BYTES - RENEWAL_ATTRIBUTES_BYTES;
  const base = { ...envelopeOfSize(0, sizeLimit - 300), error: { type: 'é'.repeat(200), message: '' } };
  const envelope = { ...base, error: { ...base.error, message: 'm'.repeat(sizeLimit - sqsSize(base) + 1) } };
  expect(sqsSize(envelope)).toBe(sizeLimit + 1); // in UTF-16 units it would be 200 fewer, and fit
  writer.add(envelope);
  expect(await writer.flush()).toMatchObject({ sent: 1, unsent: [] });
  expect(puts).toHaveLength(1);
});

describe('awsDeadLetterTransport', () => {
  it('sends one SendMessageBatch to the queue and reads Failed[] entries, filling in what SQS leaves out', async () => {
    const { client } = await loadSqs();
    const send = vi.spyOn(client, 'send').mockResolvedValue({
      Successful: [],
      Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad' }, { Id: '1' }],
    } as never);
    const signal = new AbortController().signal;
    const entries = [{ Id: '0', MessageBody: 'b', MessageAttributes: { topic: { DataType: 'String' as const, StringValue: 't' } } }];
    expect(await awsDeadLetterTransport.sendMessageBatch('https://q', entries, signal)).toEqual({
      failed: [
        { Id: '0', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad' },
        { Id: '1', SenderFault: false, Code: 'Unknown' },
      ],
    });
    const [command, options] = send.mock.calls[0] as unknown as [{ constructor: { name: string }; input: unknown }, unknown];
    expect(command.constructor.name).toBe('SendMessageBatchCommand');
    expect(command.input).toEqual({ QueueUrl: 'https://q', Entries: entries });
    expect(options).toEqual({ abortSignal: signal });

    send.mockResolvedValue({ Successful: [] } as never);
    expect(await awsDeadLetterTransport.sendMessageBatch('https://q', entries, signal)).toEqual({ failed: [] });
  });

  it('puts the envelope in S3 as JSON', async () => {
    const { client } = await loadS3();
    const send = vi.spyOn(client, 'send').mockResolvedValue({} as never);
    const signal = new AbortController().signal;
    await awsDeadLetterTransport.putObject('bucket', 'dead-letters/t/0/1-2.json', '{"a":1}', signal);
    const [command, options] = send.mock.calls[0] as unknown as [{ constructor: { name: string }; input: unknown }, unknown];
    expect(command.constructor.name).toBe('PutObjectCommand');
    expect(command.input).toEqual({ Bucket: 'bucket', Key: 'dead-letters/t/0/1-2.json', Body: '{"a":1}', ContentType: 'application/json' });
    expect(options).toEqual({ abortSignal: signal });
  });
});

describe('DeadLetterWriter, more', () => {
  it('publishes accepted dead letters on the channel local tools subscribe to by name', async () => {
    const published: unknown[] = [];
    const listen = (message: unknown) => void published.push(message);
    subscribe('kafka-lambda:dead-letter-sent', listen);
    try {
      const { DeadLetterWriter: Writer } = await fresh<typeof DeadLetterWriterModule>('../../src/runtime/dead-letter-writer.js');
      const writer = new Writer({ queueUrl: 'q', transport: fakeTransport().transport });
      writer.add(envelopes(1)[0]!);
      await writer.flush();
    } finally {
      unsubscribe('kafka-lambda:dead-letter-sent', listen);
    }
    expect(published).toHaveLength(1);
  });

  it('frees a slot when a call ends, for calls started later', async () => {
    const { transport, sends } = fakeTransport();
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, concurrency: 1 });
    for (const e of envelopes(10)) writer.add(e);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the first call is over
    for (const e of envelopes(20).slice(10)) writer.add(e);
    expect(await writer.flush()).toEqual({ sent: 20, unsent: [], calls: 2 });
    expect(sends).toHaveLength(2);
  });

  it('gives a call the time left until the deadline, not a moment', async () => {
    const signals: AbortSignal[] = [];
    const transport: DeadLetterTransport = {
      async sendMessageBatch(_url, _entries, signal) {
        await new Promise((resolve) => setTimeout(resolve, 30));
        signals.push(signal);
        return { failed: [] };
      },
      async putObject() {},
    };
    const writer = new DeadLetterWriter({ queueUrl: 'q', transport, deadline: Date.now() + 60_000 });
    writer.add(envelopes(1)[0]!);
    await writer.flush();
    expect(signals[0]!.aborted).toBe(false);
  });
});
