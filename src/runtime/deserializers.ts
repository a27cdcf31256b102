import type { KafkaRecord } from './record.js';
import { ConfigurationError, describeError } from '../contract/errors.js';
import { DeserializationError } from './errors.js';

/**
 * A function from the bytes to the value user code sees; `field` says whether they are the
 * record's key or its value. It may throw; the record is then dead-lettered.
 */
export type DeserializerFn<T> = (bytes: Buffer, record: KafkaRecord<unknown, unknown>, field: 'key' | 'value') => T;
/** `json` (the default for values), `string` (UTF-8), `bytes` (the Buffer itself), or a function. */
export type Deserializer<T = unknown> = 'json' | 'string' | 'bytes' | DeserializerFn<T>;

const builtIn: Record<'json' | 'string' | 'bytes', DeserializerFn<unknown>> = {
  json: (bytes) => {
    try {
      return JSON.parse(bytes.toString()); // toString() without an encoding: Node's fast UTF-8 path
    } catch (error) {
      // eslint-disable-next-line preserve-caught-error -- V8's error quotes the record: it must not travel on as the cause
      throw new SyntaxError(invalidJson(error, bytes.length));
    }
  },
  string: (bytes) => bytes.toString('utf8'),
  bytes: (bytes) => bytes,
};

/**
 * Why bytes are not JSON, without V8's message: it quotes the input around the bad token, and
 * record contents stay out of errors and logs. The position, when V8 gives one, and the length.
 */
function invalidJson(error: unknown, byteLength: number): string {
  const position = /at position (\d+)/.exec(describeError(error).message)?.[1];
  return `not valid JSON (${byteLength} bytes${position === undefined ? '' : `, the first error at character ${position}`})`;
}

/** Resolves a deserializer option to a function that turns null into null and wraps errors. */
export function resolveDeserializer<T>(
  option: Deserializer<T>,
  what: 'key' | 'value',
): (bytes: Buffer | null, record: KafkaRecord<unknown, unknown>) => T | null {
  // Own names only: 'toString' or 'constructor' would otherwise find Object's inherited methods.
  const fn = (typeof option === 'function' ? option : Object.hasOwn(builtIn, option) ? builtIn[option] : undefined) as
    DeserializerFn<T> | undefined;
  if (!fn) {
    const setting = what === 'key' ? 'keyDeserializer' : 'deserializer';
    throw new ConfigurationError(
      `Unknown ${what} deserializer ${JSON.stringify(String(option))}: set ${setting} to 'json', 'string', 'bytes' or a function, or leave it out${what === 'key' ? " (record.key is then the key's bytes)" : ' (JSON)'}.`,
    );
  }
  return (bytes, record) => {
    if (bytes === null) return null;
    try {
      return fn(bytes, record, what);
    } catch (error) {
      if (error instanceof DeserializationError) throw error; // already names the field and the record
      throw new DeserializationError(
        `Cannot deserialize the ${what} of ${record.partitionKey}@${record.offset}: ${describeError(error).message}`,
        { cause: error, field: what, record },
      );
    }
  };
}
