// `kafka-lambda-consumers/runtime/protobuf`: a deserializer for Protobuf keys and values, for
// protobufjs message types. Its own entry point; it loads no library itself (the message type
// brings protobufjs), so a handler that does not import it bundles nothing more.
import type { DeserializerFn } from './deserializers.js';
import { ConfigurationError } from '../contract/errors.js';
import { MalformedDataError } from './errors.js';
import { framedDeserializer, type WireFormat } from './wire-format.js';

export type { WireFormat } from './wire-format.js';
export type { DeserializerFn } from './deserializers.js';

/** What the deserializer uses of a protobufjs `Type` (`root.lookupType('shop.Order')`) or a generated static message class. */
export interface ProtobufMessageType {
  decode(data: Uint8Array): unknown;
  readonly fullName?: string;
}

export interface ProtobufDeserializerOptions {
  /** The message type the data is, e.g. `protobuf.Root.fromJSON(json).lookupType('shop.Order')`. */
  readonly type: ProtobufMessageType;
  /** How the producer framed the bytes: `'confluent'`, `'glue'` or `'raw'` (see {@link WireFormat}). */
  readonly wireFormat: WireFormat;
}

/** A base-128 varint (at most 32 bits) at `at`: its value and the offset after it. */
function readVarint(bytes: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  for (let shift = 0, i = at; shift < 35; shift += 7, i++) {
    const byte = bytes[i];
    if (byte === undefined) throw new MalformedDataError(`its message index is cut short at byte ${i}`);
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, i + 1];
  }
  throw new MalformedDataError(`its message index has a varint longer than 5 bytes at byte ${at}`);
}

const unzigzag = (n: number) => (n % 2 === 0 ? n / 2 : -(n + 1) / 2);

/**
 * Where the message starts after the message indexes: Confluent writes a zigzag varint count
 * and that many zigzag varint indexes (a count of 0 meaning the first message, [0]); Glue
 * writes one unsigned varint. The indexes are read past: the given type decodes the message.
 */
function messageStart(body: Buffer, wireFormat: WireFormat): number {
  if (wireFormat === 'raw') return 0;
  if (wireFormat === 'glue') return readVarint(body, 0)[1];
  const [zigzagCount, first] = readVarint(body, 0);
  const count = unzigzag(zigzagCount);
  if (count < 0 || count > body.length - first)
    throw new MalformedDataError(`its message-index count is ${count}, with ${body.length - first} bytes left`);
  let at = first;
  for (let i = 0; i < count; i++) at = readVarint(body, at)[1];
  return at;
}

/**
 * A `deserializer` (or `keyDeserializer`) for `kafkaConsumer` that decodes Protobuf data with
 * the given message type; `record.value` is what the type's `decode` returns (a protobufjs
 * message: `type.toObject(value)` makes a plain object). A record that does not decode is
 * dead-lettered as it came, with a `DeserializationError` naming the field, the format and the reason.
 * @throws ConfigurationError when `type` has no `decode` function
 */
export function protobufDeserializer<T = unknown>(options: ProtobufDeserializerOptions): DeserializerFn<T> {
  const { type, wireFormat } = options;
  if (typeof type?.decode !== 'function') {
    throw new ConfigurationError(
      'protobufDeserializer: `type` must be a protobufjs message type (root.lookupType(name)) or a generated message class, with a decode function.',
    );
  }
  const name = type.fullName?.replace(/^\./, '') ?? 'the message type';
  return framedDeserializer('Protobuf', wireFormat, (body) => {
    const data = body.subarray(messageStart(body, wireFormat));
    try {
      return type.decode(data) as T;
    } catch (error) {
      throw new MalformedDataError(`it does not decode as ${name} (${(error as Error).message})`, { cause: error });
    }
  });
}
