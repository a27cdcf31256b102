// Frames data as the schema registries' serializers do, written from their specifications
// (Confluent: "Wire format" in the Schema Registry serdes docs; Glue: the header the
// aws-glue-schema-registry serializers write), independently of the runtime's decoder.
import { deflateSync } from 'node:zlib';
import { resolveDeserializer, type DeserializerFn } from '../../src/runtime/deserializers.js';
import { KafkaRecord, type SchemaMetadata } from '../../src/runtime/record.js';

/** A zigzag varint, as Confluent writes Protobuf message indexes. */
function zigzagVarint(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  return [...out, v];
}

/** Magic byte 0, the schema id big-endian, then (Protobuf) the message indexes, then the data. */
export function confluentFrame(schemaId: number, data: Uint8Array, messageIndexes?: number[]): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  // Confluent writes the common [0] as a single 0 (a count of none).
  const indexes =
    messageIndexes === undefined
      ? []
      : messageIndexes.length === 1 && messageIndexes[0] === 0
        ? [0]
        : [messageIndexes.length, ...messageIndexes].flatMap(zigzagVarint);
  return Buffer.concat([header, Buffer.from(indexes), data]);
}

export const GLUE_SCHEMA_VERSION = 'b7b4a7f0-0f4a-4b8e-9c1d-2f5e6a7b8c9d';

/** Header version 3, compression (0 none, 5 zlib), the schema version UUID, then (Protobuf) the message index, then the data. */
export function glueFrame(data: Uint8Array, options: { zlib?: boolean; messageIndex?: number } = {}): Buffer {
  const body = Buffer.concat([Buffer.from(options.messageIndex === undefined ? [] : [options.messageIndex]), data]);
  return Buffer.concat([
    Buffer.from([3, options.zlib ? 5 : 0]),
    Buffer.from(GLUE_SCHEMA_VERSION.replaceAll('-', ''), 'hex'),
    options.zlib ? deflateSync(body) : body,
  ]);
}

/** A record of orders-0 at offset 42 whose key or value is `bytes`, with that field's schema metadata if given. */
export function recordWith(field: 'key' | 'value', bytes: Buffer, metadata?: SchemaMetadata): KafkaRecord<unknown, unknown> {
  const base64 = bytes.toString('base64');
  return field === 'key'
    ? new KafkaRecord('orders', 0, 42, 0, 'CREATE_TIME', base64, null, [], metadata, undefined)
    : new KafkaRecord('orders', 0, 42, 0, 'CREATE_TIME', null, base64, [], undefined, metadata);
}

/** What the runtime makes of the field with this deserializer (through its own wrapper). */
export function deserialize(fn: DeserializerFn<unknown>, field: 'key' | 'value', bytes: Buffer, metadata?: SchemaMetadata): unknown {
  const record = recordWith(field, bytes, metadata);
  return resolveDeserializer(fn, field)(field === 'key' ? record.rawKey : record.rawValue, record);
}
