import { describe, expect, it } from 'vitest';
import { resolveDeserializer } from '../../functions/runtime/deserializers';
import { ConfigurationError, DeserializationError, NonRetryableError } from '../../functions/runtime/errors';
import { partitionOf } from '../support/records';

const [record] = partitionOf([{ topic: 'orders', partition: 2, offset: 7, value: '{}' }]);

describe('resolveDeserializer', () => {
  it('reads JSON, UTF-8 text or the bytes themselves', () => {
    expect(resolveDeserializer('json', 'value')(Buffer.from('{"a":[1,"é"]}'), record!)).toEqual({ a: [1, 'é'] });
    expect(resolveDeserializer('string', 'key')(Buffer.from('clé'), record!)).toBe('clé');
    const bytes = Buffer.from([0, 255]);
    expect(resolveDeserializer('bytes', 'value')(bytes, record!)).toBe(bytes);
  });

  it('calls a function with the bytes and the record', () => {
    const seen: unknown[] = [];
    const fn = resolveDeserializer((bytes, r) => (seen.push(r), bytes.length), 'value');
    expect(fn(Buffer.from('abc'), record!)).toBe(3);
    expect(seen).toEqual([record]);
  });

  it('turns null (no key, a tombstone) into null without calling the deserializer', () => {
    let calls = 0;
    expect(resolveDeserializer(() => ++calls, 'value')(null, record!)).toBeNull();
    expect(resolveDeserializer('json', 'value')(null, record!)).toBeNull();
    expect(calls).toBe(0);
  });

  it('wraps a failure in a DeserializationError (never retried) naming the field and the record, with the cause', () => {
    let thrown: unknown;
    try {
      resolveDeserializer('json', 'key')(Buffer.from('not json'), record!);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DeserializationError);
    expect(thrown).toBeInstanceOf(NonRetryableError);
    expect((thrown as Error).message).toMatch(/^Cannot deserialize the key of orders-2@7: Unexpected token/);
    expect((thrown as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('refuses an unknown name, listing the choices', () => {
    expect(() => resolveDeserializer('xml' as never, 'key')).toThrow(ConfigurationError);
    expect(() => resolveDeserializer('xml' as never, 'key')).toThrow('Unknown key deserializer "xml": use \'json\', \'string\', \'bytes\' or a function.');
    expect(() => resolveDeserializer('toString' as never, 'value')).toThrow('Unknown value deserializer "toString"');
  });
});
