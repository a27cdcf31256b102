import { describe, expect, it } from 'vitest';
import { resolveDeserializer } from '../../../src/runtime/deserializers.js';
import { ConfigurationError } from '../../../src/contract/errors.js';
import { DeserializationError, NonRetryableError } from '../../../src/runtime/errors.js';
import { partitionOf } from '../../support/records.js';

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
    expect((thrown as Error).message).toBe('Cannot deserialize the key of orders-2@7: not valid JSON (8 bytes)');
    expect((thrown as Error).cause).toBeInstanceOf(SyntaxError);
    // The record's coordinates, not the record: its key and value stay out of errors.
    expect(thrown).toMatchObject({ field: 'key', record: { topic: 'orders', partition: 2, offset: 7 } });
    expect(Object.keys((thrown as DeserializationError).record!)).toEqual(['topic', 'partition', 'offset']);
  });

  // Issue 28, class 5: V8's JSON errors quote the input around the bad token ("Unexpected token
  // 's', "secret" is not valid JSON"); the message, its cause and the dead letter's error must not.
  it.each([
    ['secret-4111', 'not valid JSON (11 bytes)'],
    ['{"card":"4111"x}', 'not valid JSON (16 bytes, the first error at character 14)'],
    ['"4111-unterminated', 'not valid JSON (18 bytes, the first error at character 18)'],
  ])('says where JSON %j is wrong, never what it holds', (text, reason) => {
    let thrown: Error | undefined;
    try {
      resolveDeserializer('json', 'value')(Buffer.from(text), record!);
    } catch (error) {
      thrown = error as Error;
    }
    expect(thrown!.message).toBe(`Cannot deserialize the value of orders-2@7: ${reason}`);
    expect(`${thrown!.message} ${(thrown!.cause as Error).message} ${thrown!.stack}`).not.toContain('4111');
  });

  it('refuses an unknown name, listing the choices', () => {
    expect(() => resolveDeserializer('xml' as never, 'key')).toThrow(ConfigurationError);
    expect(() => resolveDeserializer('xml' as never, 'key')).toThrow(
      "Unknown key deserializer \"xml\": set keyDeserializer to 'json', 'string', 'bytes' or a function, or leave it out (record.key is then the key's bytes).",
    );
    expect(() => resolveDeserializer('' as never, 'value')).toThrow(
      "Unknown value deserializer \"\": set deserializer to 'json', 'string', 'bytes' or a function, or leave it out (JSON).",
    );
    expect(() => resolveDeserializer('toString' as never, 'value')).toThrow('Unknown value deserializer "toString"');
  });
});
