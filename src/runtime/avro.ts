// `kafka-lambda-consumers/runtime/avro`: a deserializer for Avro keys and values, on avsc. Its
// own entry point, so a handler that does not import it does not bundle avsc.
import type avsc from 'avsc';
import avscTypes from 'avsc/lib/types.js'; // the type system alone: a third of avsc's bundle
import type { DeserializerFn } from './deserializers.js';
import { ConfigurationError } from '../contract/errors.js';
import { MalformedDataError } from './errors.js';
import { framedDeserializer, type WireFormat } from './wire-format.js';

export type { WireFormat } from './wire-format.js';
export type { DeserializerFn } from './deserializers.js';

export interface AvroDeserializerOptions {
  /** The writer's schema: Avro schema JSON (parsed), or a type built with avsc's `Type.forSchema`. */
  readonly schema: avsc.Schema | avsc.Type;
  /** How the producer framed the bytes: `'confluent'`, `'glue'` or `'raw'` (see {@link WireFormat}). */
  readonly wireFormat: WireFormat;
}

/**
 * A `deserializer` (or `keyDeserializer`) for `kafkaConsumer` that decodes Avro binary data with
 * the given schema. A record that does not decode is dead-lettered as it came, with a
 * `DeserializationError` naming the field, the format and the reason.
 * @throws ConfigurationError when the schema is not a valid Avro schema
 */
export function avroDeserializer<T = unknown>(options: AvroDeserializerOptions): DeserializerFn<T> {
  let type: avsc.Type;
  try {
    type = avscTypes.Type.isType(options.schema) ? (options.schema as avsc.Type) : avscTypes.Type.forSchema(options.schema as avsc.Schema);
  } catch (error) {
    throw new ConfigurationError(`avroDeserializer: the schema is not a valid Avro schema: ${(error as Error).message}`, { cause: error });
  }
  const name = type.name ?? type.typeName;
  return framedDeserializer('Avro', options.wireFormat, (body) => {
    try {
      return type.fromBuffer(body) as T;
    } catch (error) {
      throw new MalformedDataError(`it does not decode as ${name} (${(error as Error).message})`, { cause: error });
    }
  });
}
