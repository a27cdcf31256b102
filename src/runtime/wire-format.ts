// The framing schema registries' serializers put around Avro and Protobuf data, taken off before
// the data is decoded: one module for both codecs (runtime/avro and runtime/protobuf).
import { inflateSync } from 'node:zlib';
import type { DeserializerFn } from './deserializers.js';
import { ConfigurationError } from '../contract/errors.js';
import { DeserializationError, MalformedDataError } from './errors.js';

/**
 * How the producer framed the bytes.
 * - `confluent`: Confluent's serializers: magic byte 0, a 4-byte big-endian schema id, the data
 *   (for Protobuf, after a list of message indexes).
 * - `glue`: the AWS Glue Schema Registry serializers: header version byte 3, a compression
 *   byte (0 none, 5 zlib), the 16-byte schema version UUID, the data (for Protobuf, after a
 *   message index).
 * - `raw`: the data alone.
 *
 * A record with schema metadata (`keySchemaMetadata` / `valueSchemaMetadata`: the mapping has
 * a schema registry and delivers the SOURCE format) comes without the header, which Lambda
 * removes; Protobuf data keeps its message index(es) in the format named here.
 */
export type WireFormat = 'confluent' | 'glue' | 'raw';

const FORMAT_NAMES: Record<WireFormat, string> = { confluent: 'Confluent', glue: 'Glue', raw: 'raw' };
const CONFLUENT_HEADER_BYTES = 5;
const CONFLUENT_MAGIC_BYTE = 0;
const GLUE_HEADER_BYTES = 18;
const GLUE_HEADER_VERSION = 3;
const GLUE_COMPRESSION_NONE = 0;
const GLUE_COMPRESSION_ZLIB = 5;
/** Bounds what a compressed record may inflate to, so that a zlib bomb fails its record, not the function. */
export const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

const hex = (byte: number | undefined) => `0x${(byte ?? 0).toString(16).padStart(2, '0')}`;

function uuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The bytes after the header. @throws MalformedDataError saying why the header is not the wire format's */
function unframe(bytes: Buffer, wireFormat: WireFormat): Buffer {
  if (wireFormat === 'raw') return bytes;
  if (wireFormat === 'confluent') {
    if (bytes.length < CONFLUENT_HEADER_BYTES)
      throw new MalformedDataError(`${bytes.length} bytes, fewer than the ${CONFLUENT_HEADER_BYTES}-byte header`);
    if (bytes[0] !== CONFLUENT_MAGIC_BYTE)
      throw new MalformedDataError(`magic byte ${hex(bytes[0])}, expected ${hex(CONFLUENT_MAGIC_BYTE)}`);
    return bytes.subarray(CONFLUENT_HEADER_BYTES);
  }
  if (bytes.length < GLUE_HEADER_BYTES)
    throw new MalformedDataError(`${bytes.length} bytes, fewer than the ${GLUE_HEADER_BYTES}-byte header`);
  if (bytes[0] !== GLUE_HEADER_VERSION)
    throw new MalformedDataError(`header version byte ${hex(bytes[0])}, expected ${hex(GLUE_HEADER_VERSION)}`);
  const data = bytes.subarray(GLUE_HEADER_BYTES);
  if (bytes[1] === GLUE_COMPRESSION_NONE) return data;
  if (bytes[1] !== GLUE_COMPRESSION_ZLIB) {
    throw new MalformedDataError(
      `compression byte ${hex(bytes[1])}, expected ${hex(GLUE_COMPRESSION_NONE)} (none) or ${hex(GLUE_COMPRESSION_ZLIB)} (zlib)`,
    );
  }
  try {
    return inflateSync(data, { maxOutputLength: MAX_INFLATED_BYTES });
  } catch (error) {
    throw new MalformedDataError(`its zlib-compressed data does not inflate (${(error as Error).message})`, { cause: error });
  }
}

/** The schema a well-formed header names, for error messages (spelled out only on an error). */
function schemaOf(bytes: Buffer, wireFormat: WireFormat): string {
  if (wireFormat === 'confluent') return ` (schema id ${bytes.readInt32BE(1)})`;
  return wireFormat === 'glue' ? ` (schema version ${uuid(bytes.subarray(2, GLUE_HEADER_BYTES))})` : '';
}

/**
 * A deserializer that takes the wire format's header off (unless Lambda already did) and
 * decodes the rest with `decode`. Whatever fails becomes a `DeserializationError` naming the
 * field, the record, the format and the reason, e.g. "The value of orders-0@42 is not
 * Confluent Avro: magic byte 0x7b, expected 0x00".
 */
export function framedDeserializer<T>(codec: 'Avro' | 'Protobuf', wireFormat: WireFormat, decode: (body: Buffer) => T): DeserializerFn<T> {
  if (!Object.hasOwn(FORMAT_NAMES, wireFormat)) {
    throw new ConfigurationError(
      `wireFormat is ${JSON.stringify(wireFormat)}; use 'confluent', 'glue' or 'raw' (how the producer's serializer framed the ${codec} data).`,
    );
  }
  const expected = `${FORMAT_NAMES[wireFormat]} ${codec}`;
  const upperCodec = codec.toUpperCase();
  return (bytes, record, field) => {
    const metadata = field === 'key' ? record.keySchemaMetadata : record.valueSchemaMetadata;
    let headerRead = false;
    try {
      if (metadata) {
        // delivered in SOURCE format: Lambda took the header off
        if (metadata.dataFormat !== undefined && metadata.dataFormat.toUpperCase() !== upperCodec) {
          throw new MalformedDataError(`the mapping's schema registry says the data format is ${metadata.dataFormat}`);
        }
        return decode(bytes);
      }
      const body = unframe(bytes, wireFormat);
      headerRead = true;
      return decode(body);
    } catch (error) {
      const format = metadata
        ? `${codec} delivered by Lambda's schema registry integration (data format ${metadata.dataFormat ?? 'not given'}, schema ${metadata.schemaId ?? 'not given'})`
        : `${expected}${headerRead ? schemaOf(bytes, wireFormat) : ''}`;
      throw new DeserializationError(
        `The ${field} of ${record.partitionKey}@${record.offset} is not ${format}: ${(error as Error).message}`,
        { cause: error, field, record },
      );
    }
  };
}
