import { describe, expect, it } from 'vitest';
import { decodeEvent, recordAt } from '../../../src/runtime/event.js';
import { DeserializationError, InvalidEventError } from '../../../src/runtime/errors.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';

describe('decodeEvent', () => {
  it('decodes null keys, tombstones, duplicate binary headers and keeps their order', () => {
    const event = buildKafkaEvent([
      {
        topic: 'orders',
        partition: 0,
        offset: 15,
        key: null,
        value: null,
        headers: [
          ['trace', Buffer.from([0, 255])],
          ['x', 'a'],
          ['trace', 'b'],
        ],
      },
    ]);
    const [p] = decodeEvent(event).partitions;
    const r = recordAt(p!, p!.entries[0]!);
    expect(r.rawKey).toBeNull();
    expect(r.rawValue).toBeNull();
    expect(r.encodedValue).toBeNull();
    expect(r.headers.all.map((h) => h.name)).toEqual(['trace', 'x', 'trace']);
    expect(r.headers.get('trace')).toEqual(Buffer.from([0, 255]));
    expect(r.headers.getAll('trace').map((b) => b.toString('latin1'))).toEqual(['\u0000\u00ff', 'b']);
    expect(r.headers.getString('x')).toBe('a');
    expect(r.headers.get('missing')).toBeUndefined();
  });

  it('takes topic names with dashes, several topics and several partitions', () => {
    const event = buildKafkaEvent([
      { topic: 'my-orders-v2', partition: 3, offset: 1, value: '1' },
      { topic: 'my-orders-v2', partition: 3, offset: 2, value: '2' },
      { topic: 'payments', partition: 0, offset: 9, value: '3' },
    ]);
    const decoded = decodeEvent(event);
    expect(decoded.partitions.map((p) => [p.id, p.topic, p.partition, p.entries.length])).toEqual([
      ['my-orders-v2-3', 'my-orders-v2', 3, 2],
      ['payments-0', 'payments', 0, 1],
    ]);
    expect(decoded.partitions.map((p) => p.byteCount)).toEqual([2, 1]);
  });

  it('takes self-managed events (no ARN) and schema metadata fields', () => {
    const event = buildKafkaEvent([{ topic: 't', partition: 0, offset: 0, key: 'k', value: '{}' }], { eventSource: 'SelfManagedKafka' });
    const record = event.records['t-0']![0]!;
    record.valueSchemaMetadata = { dataFormat: 'AVRO', schemaId: '123' };
    record.value = { already: 'json' }; // schema registry in JSON mode
    const decoded = decodeEvent(event);
    expect(decoded.eventSource).toBe('SelfManagedKafka');
    expect(decoded.eventSourceArn).toBeUndefined();
    const r = recordAt(decoded.partitions[0]!, decoded.partitions[0]!.entries[0]!);
    expect(r.valueSchemaMetadata).toEqual({ dataFormat: 'AVRO', schemaId: '123' });
    expect(JSON.parse(r.rawValue!.toString())).toEqual({ already: 'json' });
    expect(r.rawKey!.toString()).toBe('k');
  });

  it.each([
    [null, 'expected an object, got null.'],
    ['text', 'expected an object, got string.'],
    [
      { eventSource: 'aws:sqs', records: {} },
      'eventSource is "aws:sqs"; this handler takes events from a Kafka event source mapping ("aws:kafka" or "SelfManagedKafka").',
    ],
    [{ records: {} }, 'eventSource is undefined; this handler takes events'],
    [{ eventSource: 'aws:kafka' }, '"records" must be an object keyed "<topic>-<partition>".'],
    [{ eventSource: 'aws:kafka', records: null }, '"records" must be an object keyed'],
    [{ eventSource: 'aws:kafka', records: [] }, '"records" must be an object keyed'],
    [{ eventSource: 'aws:kafka', records: { 't-0': 'x' } }, 'records["t-0"] must be an array of records.'],
    [
      { eventSource: 'aws:kafka', records: { 't-1': [{ topic: 't', partition: 0 }] } },
      'records["t-1"][0] has topic "t" and partition 0, which do not match the key "t-1".',
    ],
    [{ eventSource: 'aws:kafka', records: { 't-0': [{ topic: 7, partition: 0 }] } }, 'records["t-0"][0] has topic 7 and partition 0'],
    [
      { eventSource: 'aws:kafka', records: { 't-0.5': [{ topic: 't', partition: 0.5 }] } },
      'records["t-0.5"][0] has topic "t" and partition 0.5',
    ],
    [{ eventSource: 'aws:kafka', records: { 't-0': [null] } }, 'records["t-0"][0] has topic undefined and partition undefined'],
  ])('rejects a malformed event %#, saying what is wrong', (event, message) => {
    expect(() => decodeEvent(event)).toThrow(InvalidEventError);
    expect(() => decodeEvent(event)).toThrow(`Invalid Kafka event: ${message}`);
  });

  it('skips a partition with no records', () => {
    const event = {
      eventSource: 'aws:kafka',
      records: { 't-0': [], ...buildKafkaEvent([{ topic: 'u', partition: 1, offset: 0, value: 'v' }]).records },
    };
    expect(decodeEvent(event).partitions.map((p) => p.id)).toEqual(['u-1']);
  });

  it('keeps the ARN and bootstrap servers when given, and leaves them out when not', () => {
    const msk = decodeEvent(buildKafkaEvent([], { eventSourceArn: 'arn:x', bootstrapServers: 'b:9092' }));
    expect(msk).toEqual({ eventSource: 'aws:kafka', eventSourceArn: 'arn:x', bootstrapServers: 'b:9092', partitions: [] });
    expect(Object.keys(decodeEvent({ eventSource: 'SelfManagedKafka', records: {} }))).toEqual(['eventSource', 'partitions']);
  });

  it('names the field of a record that is wrong', () => {
    const base = () =>
      buildKafkaEvent([
        { topic: 't', partition: 0, offset: 0, value: 'v' },
        { topic: 't', partition: 0, offset: 1, value: 'v' },
      ]);
    const withField = (field: string, value: unknown) => {
      const e = base();
      (e.records['t-0']![1] as unknown as Record<string, unknown>)[field] = value;
      return e;
    };
    const rejects = (event: unknown, message: string) =>
      expect(() => decodeEvent(event)).toThrow(`Invalid Kafka event: records["t-0"][1]${message}`);
    rejects(withField('offset', '7'), '.offset must be a non-negative integer, got "7".');
    rejects(withField('offset', -1), '.offset must be a non-negative integer, got -1.');
    rejects(withField('offset', 1.5), '.offset must be a non-negative integer, got 1.5.');
    rejects(withField('offset', 2 ** 53), `.offset must be a non-negative integer, got ${2 ** 53}.`);
    expect(() => decodeEvent(withField('offset', 0))).not.toThrow();
    expect(() => decodeEvent(withField('value', 42))).not.toThrow(); // JSON already: schema registry in JSON mode
    rejects(withField('key', 42), '.key must be a base64 string or null, got number.');
    expect(() => decodeEvent(withField('key', undefined))).not.toThrow();
    rejects(withField('timestampType', 'X'), '.timestampType must be CREATE_TIME or LOG_APPEND_TIME, got "X".');
    for (const type of ['CREATE_TIME', 'LOG_APPEND_TIME', 'NO_TIMESTAMP_TYPE'])
      expect(() => decodeEvent(withField('timestampType', type))).not.toThrow();
    rejects(withField('timestamp', null), '.timestamp must be a number (epoch ms), got null.');
    rejects(withField('headers', {}), '.headers must be an array of {name: [bytes]} objects.');
    rejects(withField('headers', 'h'), '.headers must be an array of {name: [bytes]} objects.');
    expect(() => decodeEvent(withField('headers', null))).not.toThrow();
    expect(() => decodeEvent(withField('headers', undefined))).not.toThrow();
    rejects(withField('partition', 1), ' belongs to t-1, not t-0.');
    rejects(withField('topic', 'u'), ' belongs to u-0, not t-0.');
    const notAnObject = base();
    (notAnObject.records['t-0'] as unknown[])[1] = 'r';
    rejects(notAnObject, ' must be an object.');
    (notAnObject.records['t-0'] as unknown[])[1] = null;
    rejects(notAnObject, ' must be an object.');
  });

  it('counts the decoded bytes of keys and values: base64, JSON values and nulls', () => {
    const event = buildKafkaEvent([
      { topic: 't', partition: 0, offset: 0, key: 'abcd', value: 'hello' },
      { topic: 't', partition: 0, offset: 1, key: null, value: null },
    ]);
    (event.records['t-0']![1] as { value: unknown }).value = { a: 1 }; // schema registry in JSON mode: 7 bytes of JSON
    expect(decodeEvent(event).partitions[0]!.byteCount).toBe(4 + 5 + 7);
  });

  it('builds records with the defaults a minimal record leaves out', () => {
    const event = {
      eventSource: 'aws:kafka',
      records: { 't-2': [{ topic: 't', partition: 2, offset: 5, timestamp: 9, timestampType: 'LOG_APPEND_TIME' }] },
    };
    const [p] = decodeEvent(event).partitions;
    const r = recordAt(p!, p!.entries[0]!);
    expect([r.topic, r.partition, r.offset, r.timestamp, r.timestampType, r.encodedKey, r.encodedValue, r.headers.size]).toEqual([
      't',
      2,
      5,
      9,
      'LOG_APPEND_TIME',
      null,
      null,
      0,
    ]);
  });

  it('decodes keys and values when first read: one that is not base64 fails that record only', () => {
    const event = buildKafkaEvent([
      { topic: 't', partition: 0, offset: 0, key: 'k', value: '1' },
      { topic: 't', partition: 0, offset: 1, key: 'k', value: '2' },
    ]);
    event.records['t-0']![1]!.key = 'abc';
    event.records['t-0']![1]!.value = 'not base64!';
    const p0 = decodeEvent(event).partitions[0]!;
    const [good, bad] = p0.entries.map((e) => recordAt(p0, e));
    expect(good!.key).toEqual(Buffer.from('k'));
    expect(good!.rawValue).toEqual(Buffer.from('1'));
    expect(() => bad!.rawKey).toThrow(DeserializationError);
    expect(() => bad!.key).toThrow('The key of t-0@1 is not valid base64');
    expect(() => bad!.rawValue).toThrow('The value of t-0@1 is not valid base64 (11 characters)');
    expect([bad!.encodedKey, bad!.encodedValue]).toEqual(['abc', 'not base64!']); // kept as they came, for the dead letter
  });
});

describe('decodeEvent topic check', () => {
  it('refuses a topic that is not a string even when the key matches it', () => {
    expect(() => decodeEvent({ eventSource: 'aws:kafka', records: { '7-0': [{ topic: 7, partition: 0 }] } })).toThrow(
      'Invalid Kafka event: records["7-0"][0] has topic 7 and partition 0, which do not match the key "7-0".',
    );
  });
});
