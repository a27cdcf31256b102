import { describe, expect, it } from 'vitest';
import { DeserializationError } from '../../../src/runtime/errors.js';
import { KafkaRecord, RecordHeaders, base64ByteLength, decodeField } from '../../../src/runtime/record.js';

const record = (key: string | null, value: string | null, headers: Array<Record<string, number[]>> = []) =>
  new KafkaRecord('orders', 3, 42, 1_000, 'CREATE_TIME', key, value, headers);

describe('base64ByteLength', () => {
  it.each([
    ['', 0],
    ['YQ==', 1],
    ['YWI=', 2],
    ['YWJj', 3],
    ['YWJjZA==', 4],
  ])('%j holds %i bytes', (text, bytes) => {
    expect(base64ByteLength(text)).toBe(bytes);
  });
});

describe('decodeField', () => {
  it('decodes padded base64, and null as null', () => {
    expect(decodeField(record('YWI=', 'YWJjZA=='), 'key')).toEqual(Buffer.from('ab'));
    expect(decodeField(record('YWI=', 'YWJjZA=='), 'value')).toEqual(Buffer.from('abcd'));
    expect(decodeField(record(null, null), 'key')).toBeNull();
    expect(decodeField(record(null, ''), 'value')).toEqual(Buffer.alloc(0));
  });

  it.each(['YQ', 'YWJ', 'Y===', 'YW!=', 'a b='])('refuses %j, which Lambda would never write', (text) => {
    expect(() => decodeField(record(text, null), 'key')).toThrow(DeserializationError);
    expect(() => decodeField(record(null, text), 'value')).toThrow(
      `The value of orders-3@42 is not valid base64 (${text.length} characters).`,
    );
    expect(() => decodeField(record(text, null), 'key')).toThrow(
      expect.objectContaining({ field: 'key', record: { topic: 'orders', partition: 3, offset: 42 } }),
    );
  });

  it('quotes none of what it refuses (record contents stay out of errors and logs), only its length', () => {
    const text = `${'A'.repeat(20)}!===`;
    expect(() => decodeField(record(text, null), 'key')).toThrow(/^The key of orders-3@42 is not valid base64 \(24 characters\)\.$/);
  });
});

describe('KafkaRecord', () => {
  it('decodes the key and value once, and gives the key bytes until a deserialized key is set', () => {
    const r = record('YWI=', 'YWJj');
    expect(r.rawKey).toBe(r.rawKey);
    expect(r.rawValue).toBe(r.rawValue);
    expect(r.rawValue).toEqual(Buffer.from('abc'));
    expect(r.key).toBe(r.rawKey);
    r.key = Buffer.from('other');
    expect(r.key).toEqual(Buffer.from('other'));
    const nullKey = record(null, null);
    expect([nullKey.rawKey, nullKey.rawKey, nullKey.key]).toEqual([null, null, null]);
    const typed = new KafkaRecord<unknown, string | null>('t', 0, 0, 0, 'CREATE_TIME', null, null, []);
    typed.key = null;
    expect(typed.key).toBeNull();
  });

  it('names its partition as Lambda does, and keeps what the event said', () => {
    const r = record('YWI=', 'YWJj');
    expect([r.partitionKey, r.topic, r.partition, r.offset, r.timestamp, r.timestampType, r.encodedKey, r.encodedValue]).toEqual([
      'orders-3',
      'orders',
      3,
      42,
      1_000,
      'CREATE_TIME',
      'YWI=',
      'YWJj',
    ]);
  });

  it('reads headers in order, duplicates kept, once', () => {
    const r = record(null, null, [{ a: [49] }, { b: [] }, { a: [50] }]);
    expect(r.headers).toBe(r.headers);
    expect(r.headers.size).toBe(3);
    expect([...r.headers].map((h) => [h.name, h.value.toString()])).toEqual([
      ['a', '1'],
      ['b', ''],
      ['a', '2'],
    ]);
    expect(r.headers.getAll('a').map(String)).toEqual(['1', '2']);
    expect(r.headers.getAll('c')).toEqual([]);
    expect(r.headers.getString('a')).toBe('1');
    expect(r.headers.getString('c')).toBeUndefined();
    expect(new RecordHeaders([]).size).toBe(0);
  });
});
