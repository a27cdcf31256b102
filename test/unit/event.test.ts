import { describe, expect, it } from 'vitest';
import { decodeEvent, recordAt } from '../../functions/runtime/event';
import { DeserializationError, InvalidEventError } from '../../functions/runtime/errors';
import { buildKafkaEvent } from '../../local/esm/lambda-event';

describe('decodeEvent', () => {
  it('decodes null keys, tombstones, duplicate binary headers and keeps their order', () => {
    const event = buildKafkaEvent([
      { topic: 'orders', partition: 0, offset: 15, key: null, value: null, headers: [['trace', Buffer.from([0, 255])], ['x', 'a'], ['trace', 'b']] },
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
    [null, /expected an object, got null/],
    [{ eventSource: 'aws:sqs', records: {} }, /eventSource is "aws:sqs"/],
    [{ eventSource: 'aws:kafka' }, /"records" must be an object/],
    [{ eventSource: 'aws:kafka', records: { 't-0': 'x' } }, /records\["t-0"\] must be an array/],
    [{ eventSource: 'aws:kafka', records: { 't-1': [{ topic: 't', partition: 0 }] } }, /do not match the key "t-1"/],
  ])('rejects a malformed event %#', (event, message) => {
    expect(() => decodeEvent(event)).toThrow(InvalidEventError);
    expect(() => decodeEvent(event)).toThrow(message);
  });

  it('names the field of a record that is wrong', () => {
    const base = () => buildKafkaEvent([{ topic: 't', partition: 0, offset: 0, value: 'v' }]);
    const withField = (field: string, value: unknown) => {
      const e = base();
      (e.records['t-0']![0] as unknown as Record<string, unknown>)[field] = value;
      return e;
    };
    expect(() => decodeEvent(withField('offset', '7'))).toThrow('records["t-0"][0].offset must be a non-negative integer, got "7"');
    expect(() => decodeEvent(withField('value', 42))).not.toThrow(); // JSON already: schema registry in JSON mode
    expect(() => decodeEvent(withField('key', 42))).toThrow('records["t-0"][0].key must be a base64 string or null, got number');
    expect(() => decodeEvent(withField('timestampType', 'X'))).toThrow('timestampType must be CREATE_TIME or LOG_APPEND_TIME');
    expect(() => decodeEvent(withField('timestamp', null))).toThrow('timestamp must be a number');
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
    expect(() => bad!.rawValue).toThrow('The value of t-0@1 is not valid base64 (11 characters starting "not base64!")');
    expect([bad!.encodedKey, bad!.encodedValue]).toEqual(['abc', 'not base64!']); // kept as they came, for the dead letter
  });
});
