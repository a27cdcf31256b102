// Issue 28: the consumer runtime fed crafted and odd input (classes 2, 5, 6 and 9 of the issue).
// One record must never jam its partition or fail the invocation, and nothing of a record may
// reach an error message or a log line unless logRecordContents is on.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaBatchProcessor } from '../../../src/runtime/batch-processor.js';
import type { KafkaConsumerOptions } from '../../../src/runtime/processor-config.js';
import { ConfigurationError, describeError } from '../../../src/contract/errors.js';
import { InvalidEventError } from '../../../src/runtime/errors.js';
import { decodeEvent, jsonText } from '../../../src/runtime/event.js';
import { eventHeaderList, type KafkaRecord } from '../../../src/runtime/record.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { captureOutput } from '../../support/output.js';
import { fakeQueue } from '../../support/dead-letter-transport.js';
import { partitionOf } from '../../support/records.js';

afterEach(() => {
  vi.restoreAllMocks();
});

function processor(options: Partial<KafkaConsumerOptions>, queue = fakeQueue()) {
  return new KafkaBatchProcessor({
    deadLetterQueueUrl: 'http://queue',
    deadLetterTransport: queue.transport,
    retry: { maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 },
    processRecord: () => undefined,
    ...options,
  } as KafkaConsumerOptions);
}

const oneRecord = (value: string | Buffer, headers: Array<[string, Buffer | string]> = []) =>
  buildKafkaEvent([{ topic: 't', partition: 0, offset: 5, value, headers }]);

// Class 6: what user code throws decides one record's fate, never the invocation's.
describe('odd thrown values', () => {
  const nullPrototype = Object.assign(Object.create(null) as object, { code: 7 });
  const throwingMessage = Object.defineProperty(new Error('x'), 'message', {
    get: () => {
      throw new Error('getter');
    },
  });
  const numericName = Object.assign(new Error('named by a number'), { name: 42 });
  const throwingEverything = new Proxy(new Error('p'), {
    get: () => {
      throw new Error('trap');
    },
  });

  it.each([
    ['an object with no prototype', nullPrototype, 'object'],
    ['an Error whose message getter throws', throwingMessage, 'Error'],
    ['an Error whose name is not a string', numericName, 'Error'],
    ['a Proxy whose every read throws', throwingEverything, 'Error'],
  ])('describeError never throws for %s', (_what, thrown, type) => {
    expect(describeError(thrown).type).toBe(type);
    expect(typeof describeError(thrown).message).toBe('string');
  });

  it("describes what it can: the name, else the constructor's, capped; a message that is not text as none; null as null", () => {
    expect(describeError(Object.assign(new TypeError('x'), { name: 'QuotaError' })).type).toBe('QuotaError');
    expect(describeError(Object.assign(new RangeError('x'), { name: 'n'.repeat(300) })).type).toBe('n'.repeat(256));
    expect(describeError(Object.assign(new Error(), { message: 42 }))).toMatchObject({ type: 'Error', message: '' });
    expect(describeError(null)).toEqual({ type: 'null', message: 'null' });
    expect(describeError(nullPrototype)).toEqual({ type: 'object', message: 'a value that cannot be turned into text' });
  });

  it.each([
    ['an object with no prototype', nullPrototype],
    ['an Error whose message getter throws', throwingMessage],
    ['an Error whose name is not a string', numericName],
    ['a Proxy whose every read throws', throwingEverything],
  ])('dead-letters the record that threw %s, and the invocation answers', async (_what, thrown) => {
    captureOutput();
    const queue = fakeQueue();
    const p = processor(
      {
        processRecord: () => {
          throw thrown;
        },
      },
      queue,
    );
    expect(await p.process(oneRecord('{}'), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(queue.sent).toHaveLength(1);
    expect(typeof queue.sent[0]!.error.type).toBe('string');
  });

  it('logs the type only when processBatch throws one of them', async () => {
    captureOutput();
    const p = processor({
      processRecord: undefined,
      processBatch: (rs: KafkaRecord[]) => {
        if (rs.length > 1) throw throwingMessage;
      },
    });
    expect(
      await p.process(
        buildKafkaEvent([
          { topic: 't', partition: 0, offset: 0, value: '{}' },
          { topic: 't', partition: 0, offset: 1, value: '{}' },
        ]),
        lambdaContext(),
      ),
    ).toEqual({ batchItemFailures: [] });
  });
});

// Class 2 and 5: a value holding U+FFFF that is not JSON. V8's message quotes it; SQS refuses it.
describe('a record whose value SQS could not carry as text', () => {
  it('is dead-lettered in one invocation, with no quoted content in the error or the log', async () => {
    const lines = captureOutput();
    const queue = fakeQueue();
    const value = Buffer.from('secret\uFFFF\uFFFE');
    const p = processor({}, queue);
    expect(await p.process(oneRecord(value), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(queue.sent).toHaveLength(1);
    const envelope = queue.sent[0]!;
    expect(envelope.error).toMatchObject({
      type: 'DeserializationError',
      message: 'Cannot deserialize the value of t-0@5: not valid JSON (12 bytes)',
    });
    expect(Buffer.from(envelope.record.value!, 'base64').equals(value)).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });

  it('is dead-lettered even when user code throws an error quoting U+FFFF (escaped for SQS, restored exactly)', async () => {
    captureOutput();
    const queue = fakeQueue();
    const p = processor(
      {
        deserializer: 'string',
        processRecord: (r: KafkaRecord) => {
          throw new TypeError(`bad ${String(r.value)}`);
        },
      },
      queue,
    );
    expect(await p.process(oneRecord('a\uFFFFb'), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(queue.sent[0]!.error).toMatchObject({ type: 'TypeError', message: 'bad a\uFFFFb' });
  });
});

// Class 9: options that meant something else, and events no Lambda sends.
describe('options and events refused with a clear error', () => {
  it.each([Number.NaN, -1, Number.POSITIVE_INFINITY, '3000' as unknown as number])('refuses timeSafetyMarginMs %s', (margin) => {
    expect(() => processor({ timeSafetyMarginMs: margin })).toThrow(ConfigurationError);
    expect(() => processor({ timeSafetyMarginMs: margin })).toThrow('timeSafetyMarginMs must be a finite number of milliseconds ≥ 0');
  });

  it('takes timeSafetyMarginMs 0', () => {
    expect(() => processor({ timeSafetyMarginMs: 0 })).not.toThrow();
  });

  it('refuses an empty keyDeserializer (it used to mean "none", silently)', () => {
    expect(() => processor({ keyDeserializer: '' as never })).toThrow('Unknown key deserializer "": set keyDeserializer to');
    expect(() => processor({ deserializer: '' as never })).toThrow('Unknown value deserializer "": set deserializer to');
  });

  it('names the record and the header of a header value that is not a list of bytes (InvalidEventError, not a TypeError)', () => {
    const event = oneRecord('{}') as unknown as { records: Record<string, Array<{ headers: unknown[] }>> };
    event.records['t-0']![0]!.headers = [{ ok: [1] }, { n: 5 }];
    const partition = decodeEvent(event).partitions[0]!;
    const record = partitionOf([{ topic: 't', partition: 0, offset: 5, value: '{}' }])[0]!;
    Object.assign(record, { eventHeaders: partition.entries[0]!.headers });
    expect(() => record.headers).toThrow(InvalidEventError);
    expect(() => eventHeaderList(record)).toThrow(
      'Invalid Kafka event: header 1 of t-0@5 (1 characters long) is not a list of bytes from -128 to 255',
    );
    Object.assign(record, { eventHeaders: [{ ok: [1] }, null] });
    expect(() => eventHeaderList(record)).toThrow(
      'Invalid Kafka event: header 1 of t-0@5 is not a {name: [bytes]} object; Lambda sends each header as {"<name>": [bytes]}.',
    );
  });

  it('takes a JSON value nested deeper than JSON.stringify can write (schema registry in JSON mode): the record runs', async () => {
    const depth = 50_000;
    const text = `${'{"a":'.repeat(depth)}[1,"x"]${'}'.repeat(depth)}`;
    expect(() => JSON.stringify(JSON.parse(text))).toThrow(RangeError);
    expect(jsonText(JSON.parse(text))).toBe(text);
    // Only depth is worked around: any other failure of JSON.stringify stays an error.
    expect(() =>
      jsonText({
        toJSON: () => {
          throw new TypeError('not JSON');
        },
      }),
    ).toThrow('not JSON');
    const event = oneRecord('{}') as { records: Record<string, Array<{ value: unknown }>> };
    event.records['t-0']![0]!.value = JSON.parse(text);
    let seen = 0;
    const p = processor({
      deserializer: 'bytes',
      processRecord: (r: KafkaRecord) => {
        seen = (r.value as Buffer).length;
      },
    });
    captureOutput();
    expect(await p.process(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen).toBe(Buffer.byteLength(text));
  });

  it('dead-letters the record as it arrived, whatever user code did to its decoded headers', async () => {
    captureOutput();
    const queue = fakeQueue();
    const p = processor(
      {
        processRecord: (r: KafkaRecord) => {
          r.headers.all[0]!.value.fill(0);
          (r.headers.all as unknown[]).push({ name: 'added', value: Buffer.from('x') });
          throw new Error('no');
        },
      },
      queue,
    );
    await p.process(oneRecord('{}', [['trace', 'abc']]), lambdaContext());
    expect(queue.sent[0]!.record.headers).toEqual([{ name: 'trace', value: Buffer.from('abc').toString('base64') }]);
  });

  it('decodes header bytes Lambda writes as Java signed bytes (-128..127)', () => {
    const record = partitionOf([{ topic: 't', partition: 0, offset: 5, value: '{}' }])[0]!;
    // As Lambda's event JSON holds them (JSON.parse makes `__proto__` an own key, as any other name).
    Object.assign(record, { eventHeaders: JSON.parse('[{"name":[-61,-85]},{"__proto__":[1],"constructor":[255]}]') });
    expect(record.headers.all.map((h) => [h.name, [...h.value]])).toEqual([
      ['name', [0xc3, 0xab]],
      ['__proto__', [1]],
      ['constructor', [255]],
    ]);
    expect(record.headers.getString('name')).toBe('ë');
  });
});
