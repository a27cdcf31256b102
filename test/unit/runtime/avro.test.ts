import avsc from 'avsc';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kafkaConsumer } from '../../../src/runtime/index.js';
import { avroDeserializer } from '../../../src/runtime/avro.js';
import { ConfigurationError } from '../../../src/contract/errors.js';
import { DeserializationError, MalformedDataError } from '../../../src/runtime/errors.js';
import { MAX_INFLATED_BYTES } from '../../../src/runtime/wire-format.js';
import type * as WireFormatModule from '../../../src/runtime/wire-format.js';
import { fresh } from '../../support/fresh.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { fakeQueue } from '../../support/dead-letter-transport.js';
import { GLUE_SCHEMA_VERSION, confluentFrame, deserialize, glueFrame } from '../../support/wire-format.js';

const schema: avsc.Schema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'cents', type: 'long' },
    { name: 'note', type: ['null', 'string'], default: null },
  ],
};
const Order = avsc.Type.forSchema(schema);
const order = { id: 'o-1', cents: 1250, note: 'gift' };
const avro = Order.toBuffer(order); // encoded by avsc itself

afterEach(() => {
  vi.restoreAllMocks();
});

describe('avroDeserializer', () => {
  it.each([
    ['raw', avro],
    ['confluent', confluentFrame(7, avro)],
    ['glue', glueFrame(avro)],
    ['glue', glueFrame(avro, { zlib: true })],
  ] as const)('decodes %s records, keys and values', (wireFormat, bytes) => {
    const fn = avroDeserializer({ schema, wireFormat });
    expect(deserialize(fn, 'value', bytes)).toEqual(order);
    expect(deserialize(fn, 'key', bytes)).toEqual(order);
  });

  it('takes an avsc Type as the schema', () => {
    expect(deserialize(avroDeserializer({ schema: Order, wireFormat: 'confluent' }), 'value', confluentFrame(7, avro))).toEqual(order);
  });

  it('reads a record Lambda delivered in SOURCE format (its schema metadata present) without a header, whatever the wire format', () => {
    // Lambda removes the schema id before invoking: docs/aws-contracts.md §1a (EventRecordFormat SOURCE).
    const fn = avroDeserializer({ schema, wireFormat: 'confluent' });
    expect(deserialize(fn, 'value', avro, { dataFormat: 'AVRO', schemaId: '7' })).toEqual(order);
    expect(deserialize(fn, 'key', avro, { dataFormat: 'AVRO', schemaId: GLUE_SCHEMA_VERSION })).toEqual(order);
  });

  const corrupt = (bytes: Buffer) => bytes.subarray(0, bytes.length - 2);
  it.each([
    [
      'confluent',
      Buffer.from('{"id":"o-1"}'),
      'value',
      undefined,
      'The value of orders-0@42 is not Confluent Avro: magic byte 0x7b, expected 0x00',
    ],
    [
      'confluent',
      Buffer.from([0, 0, 7]),
      'key',
      undefined,
      'The key of orders-0@42 is not Confluent Avro: 3 bytes, fewer than the 5-byte header',
    ],
    [
      'confluent',
      corrupt(confluentFrame(7, avro)),
      'value',
      undefined,
      'The value of orders-0@42 is not Confluent Avro (schema id 7): it does not decode as shop.Order (truncated buffer)',
    ],
    [
      'confluent',
      Buffer.concat([confluentFrame(7, avro), Buffer.from([1])]),
      'value',
      undefined,
      'is not Confluent Avro (schema id 7): it does not decode as shop.Order (trailing data)',
    ],
    ['raw', confluentFrame(7, avro), 'value', undefined, 'The value of orders-0@42 is not raw Avro: it does not decode as shop.Order'],
    [
      'glue',
      Buffer.concat([Buffer.from([0x7b]), glueFrame(avro).subarray(1)]),
      'value',
      undefined,
      'The value of orders-0@42 is not Glue Avro: header version byte 0x7b, expected 0x03',
    ],
    ['glue', avro, 'value', undefined, 'is not Glue Avro: 12 bytes, fewer than the 18-byte header'],
    [
      'glue',
      Buffer.concat([Buffer.from([3, 9]), glueFrame(avro).subarray(2)]),
      'value',
      undefined,
      'is not Glue Avro: compression byte 0x09, expected 0x00 (none) or 0x05 (zlib)',
    ],
    [
      'glue',
      Buffer.concat([Buffer.from([3, 5]), glueFrame(avro).subarray(2)]),
      'value',
      undefined,
      'is not Glue Avro: its zlib-compressed data does not inflate',
    ],
    [
      'glue',
      glueFrame(Buffer.alloc(MAX_INFLATED_BYTES + 1), { zlib: true }),
      'value',
      undefined,
      'is not Glue Avro: its zlib-compressed data does not inflate (Cannot create a Buffer larger than',
    ],
    [
      'glue',
      corrupt(glueFrame(avro)),
      'value',
      undefined,
      `is not Glue Avro (schema version ${GLUE_SCHEMA_VERSION}): it does not decode as shop.Order (truncated buffer)`,
    ],
    [
      'confluent',
      avro,
      'value',
      { dataFormat: 'JSON', schemaId: '7' },
      "is not Avro delivered by Lambda's schema registry integration (data format JSON, schema 7): the mapping's schema registry says the data format is JSON",
    ],
  ] as const)(
    'refuses a %s record that is not, naming the field, the format and the reason (%#)',
    (wireFormat, bytes, field, metadata, message) => {
      const fn = avroDeserializer({ schema, wireFormat });
      expect(() => deserialize(fn, field, bytes, metadata)).toThrow(DeserializationError);
      expect(() => deserialize(fn, field, bytes, metadata)).toThrow(message);
      expect(() => deserialize(fn, field, bytes, metadata)).toThrow(
        expect.objectContaining({ field, record: { topic: 'orders', partition: 0, offset: 42 }, cause: expect.any(MalformedDataError) }),
      );
    },
  );

  it('takes a record that is only its header as a header with an empty body', () => {
    const fn = avroDeserializer({ schema, wireFormat: 'confluent' });
    expect(() => deserialize(fn, 'value', confluentFrame(7, Buffer.alloc(0)))).toThrow(
      'is not Confluent Avro (schema id 7): it does not decode as shop.Order',
    );
    const glue = avroDeserializer({ schema, wireFormat: 'glue' });
    expect(() => deserialize(glue, 'value', glueFrame(Buffer.alloc(0)))).toThrow(
      `is not Glue Avro (schema version ${GLUE_SCHEMA_VERSION}): it does not decode as shop.Order`,
    );
  });

  it('inflates a Glue zlib record of megabytes (the bound is 64 MiB)', async () => {
    expect((await fresh<typeof WireFormatModule>('../../src/runtime/wire-format.js')).MAX_INFLATED_BYTES).toBe(64 * 1024 * 1024);
    const big = { ...order, note: 'x'.repeat(2 * 1024 * 1024) };
    expect(deserialize(avroDeserializer({ schema, wireFormat: 'glue' }), 'value', glueFrame(Order.toBuffer(big), { zlib: true }))).toEqual(
      big,
    );
  });

  it("keeps the reason as the error's cause: the decoder's, the inflater's, the schema's", () => {
    const causes = (error: unknown): string[] => (error instanceof Error ? [error.message, ...causes(error.cause)] : []);
    const thrown = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('did not throw');
    };
    const fn = avroDeserializer({ schema, wireFormat: 'glue' });
    expect(causes(thrown(() => deserialize(fn, 'value', corrupt(glueFrame(avro)))))).toEqual([
      `The value of orders-0@42 is not Glue Avro (schema version ${GLUE_SCHEMA_VERSION}): it does not decode as shop.Order (truncated buffer)`,
      'it does not decode as shop.Order (truncated buffer)',
      'truncated buffer',
    ]);
    expect(
      causes(thrown(() => deserialize(fn, 'value', Buffer.concat([Buffer.from([3, 5]), glueFrame(avro).subarray(2)])))).slice(1),
    ).toEqual(['its zlib-compressed data does not inflate (incorrect header check)', 'incorrect header check']);
    expect(causes(thrown(() => avroDeserializer({ schema: { type: 'record' } as avsc.Schema, wireFormat: 'raw' }))).length).toBe(2);
  });

  it('refuses a schema or a wire format it cannot use when the handler is built', () => {
    expect(() => avroDeserializer({ schema: { type: 'record' } as avsc.Schema, wireFormat: 'raw' })).toThrow(ConfigurationError);
    expect(() => avroDeserializer({ schema: { type: 'record' } as avsc.Schema, wireFormat: 'raw' })).toThrow(
      'avroDeserializer: the schema is not a valid Avro schema',
    );
    expect(() => avroDeserializer({ schema, wireFormat: 'apicurio' as never })).toThrow(
      `wireFormat is "apicurio"; use 'confluent', 'glue' or 'raw'`,
    );
  });

  it('through kafkaConsumer: a record that does not decode is dead-lettered as it came, with the reason and its schema metadata', async () => {
    vi.spyOn(process.stdout, 'write').mockReturnValue(true); // the invocation's log line and metrics
    const queue = fakeQueue();
    const seen: unknown[] = [];
    const handler = kafkaConsumer<unknown>({
      deserializer: avroDeserializer({ schema, wireFormat: 'confluent' }),
      processRecord: (record) => void seen.push(record.value),
      deadLetterQueueUrl: 'http://queue',
      deadLetterTransport: queue.transport,
    });
    const json = Buffer.from('{"id":"o-2"}');
    const event = buildKafkaEvent([
      { topic: 'orders', partition: 0, offset: 41, value: confluentFrame(7, avro) },
      { topic: 'orders', partition: 0, offset: 42, value: json },
      { topic: 'orders', partition: 0, offset: 43, value: avro },
    ]);
    const sourceRecord = event.records['orders-0']![2]!;
    Object.assign(sourceRecord, { valueSchemaMetadata: { dataFormat: 'PROTOBUF', schemaId: '9' } });

    const response = await handler(event, lambdaContext());

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([order]);
    expect(
      queue.sent.map((e) => [e.record.offset, e.record.value, e.error.type, e.error.message, e.attempts, e.record.valueSchemaMetadata]),
    ).toEqual([
      [
        42,
        json.toString('base64'),
        'DeserializationError',
        'The value of orders-0@42 is not Confluent Avro: magic byte 0x7b, expected 0x00',
        1,
        undefined,
      ],
      [
        43,
        avro.toString('base64'),
        'DeserializationError',
        "The value of orders-0@43 is not Avro delivered by Lambda's schema registry integration (data format PROTOBUF, schema 9): the mapping's schema registry says the data format is PROTOBUF",
        1,
        { dataFormat: 'PROTOBUF', schemaId: '9' },
      ],
    ]);
  });
});
