import type { KafkaRecord } from './record.js';
import { ConfigurationError, DeserializationError } from './errors.js';

/**
 * A function from the bytes to the value user code sees; `field` says whether they are the
 * record's key or its value. It may throw; the record is then dead-lettered.
 */
export type DeserializerFn<T> = (bytes: Buffer, record: KafkaRecord<unknown, unknown>, field: 'key' | 'value') => T;
/** `json` (the default for values), `string` (UTF-8), `bytes` (the Buffer itself), or a function. */
export type Deserializer<T = unknown> = 'json' | 'string' | 'bytes' | DeserializerFn<T>;

const builtIn: Record<'json' | 'string' | 'bytes', DeserializerFn<unknown>> = {
  json: (bytes) => JSON.parse(bytes.toString()), // toString() without an encoding: Node's fast UTF-8 path
  string: (bytes) => bytes.toString('utf8'),
  bytes: (bytes) => bytes,
};

/** Resolves a deserializer option to a function that turns null into null and wraps errors. */
export function resolveDeserializer<T>(option: Deserializer<T>, what: 'key' | 'value'): (bytes: Buffer | null, record: KafkaRecord<unknown, unknown>) => T | null {
  // Own names only: 'toString' or 'constructor' would otherwise find Object's inherited methods.
  const fn = (typeof option === 'function' ? option : Object.hasOwn(builtIn, option) ? builtIn[option] : undefined) as DeserializerFn<T> | undefined;
  if (!fn) throw new ConfigurationError(`Unknown ${what} deserializer "${String(option)}": use 'json', 'string', 'bytes' or a function.`);
  return (bytes, record) => {
    if (bytes === null) return null;
    try {
      return fn(bytes, record, what);
    } catch (error) {
      if (error instanceof DeserializationError) throw error; // already names the field and the record
      throw new DeserializationError(
        `Cannot deserialize the ${what} of ${record.partitionKey}@${record.offset}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  };
}
