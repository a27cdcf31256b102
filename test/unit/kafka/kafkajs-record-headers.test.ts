import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// patches/kafkajs+2.2.4+001+consumed-headers-in-order.patch and 002+produced-headers-in-order:
// Kafka headers are an ordered list in which a name may repeat. kafkajs 2.2.4 reads them into an
// object keyed by name (`a, b, a` comes out as `a: [1, 3], b: 2`) and writes only such an object.
// Patched, a decoded record also has `orderedHeaders`, and a record given `orderedHeaders` is
// written in that order. Both through kafkajs's own record encoder and decoder, no broker needed.
interface Header {
  key: string;
  value: Buffer | null;
}
interface EncodedRecord {
  buffer: Buffer;
}
const require = createRequire(import.meta.url);
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: {
  key: Buffer | null;
  value: Buffer;
  headers?: object;
  orderedHeaders?: Header[];
}) => EncodedRecord;
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (
  decoder: object,
  context: object,
) => { headers: Record<string, unknown>; orderedHeaders?: Header[] };
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => { readVarIntBytes(): Buffer };

const roundTrip = (record: Parameters<typeof encodeRecord>[0]) => {
  const { buffer } = encodeRecord(record);
  return decodeRecord(new Decoder(new Decoder(buffer).readVarIntBytes()), { firstOffset: '0', firstTimestamp: '0' });
};
const inOrder = [
  { key: 'a', value: Buffer.from('1') },
  { key: 'b', value: Buffer.from('2') },
  { key: 'a', value: Buffer.from('3') },
];
const text = (headers: Header[] | undefined) => headers?.map(({ key, value }) => `${key}=${String(value)}`).join(',');

describe('kafkajs record headers (patched)', () => {
  it('writes orderedHeaders in the order given, duplicates interleaved, and reads them back in that order', () => {
    const decoded = roundTrip({ key: null, value: Buffer.from('v'), orderedHeaders: inOrder, headers: { ignored: 'x' } });
    expect(text(decoded.orderedHeaders)).toBe('a=1,b=2,a=3');
    expect(decoded.headers).toEqual({ a: [Buffer.from('1'), Buffer.from('3')], b: Buffer.from('2') }); // kafkajs's own view, unchanged
  });

  it("reads the headers written from kafkajs's grouped object in the order that object gives", () => {
    const decoded = roundTrip({
      key: null,
      value: Buffer.from('v'),
      headers: { a: [Buffer.from('1'), Buffer.from('3')], b: Buffer.from('2') },
    });
    expect(text(decoded.orderedHeaders)).toBe('a=1,a=3,b=2');
  });
});
