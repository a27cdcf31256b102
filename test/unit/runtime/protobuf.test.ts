import protobuf from 'protobufjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { kafkaConsumer } from '../../../src/runtime/index.js';
import { protobufDeserializer } from '../../../src/runtime/protobuf.js';
import { ConfigurationError } from '../../../src/contract/errors.js';
import { DeserializationError, MalformedDataError } from '../../../src/runtime/errors.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { fakeQueue } from '../../support/dead-letter-transport.js';
import { GLUE_SCHEMA_VERSION, confluentFrame, deserialize, glueFrame } from '../../support/wire-format.js';

const { root } = protobuf.parse(`
  syntax = "proto3";
  package shop;
  message Customer { string name = 1; }
  message Order {
    string id = 1;
    int64 cents = 2;
    repeated Line lines = 3;
    message Line { string sku = 1; int32 qty = 2; }
  }
`);
const Order = root.lookupType('shop.Order');
const order = { id: 'o-1', cents: 1250, lines: [{ sku: 'tea', qty: 2 }] };
const proto = Buffer.from(Order.encode(Order.fromObject(order)).finish()); // encoded by protobufjs itself
const plain = (value: unknown) => Order.toObject(value as protobuf.Message, { longs: Number });

afterEach(() => {
  vi.restoreAllMocks();
});

// Wire formats: docs/aws-contracts.md §1a.
describe('protobufDeserializer', () => {
  it.each([
    ['raw', proto],
    ['confluent', confluentFrame(7, proto, [0])], // the first message of the file: written as a single 0
    ['confluent', confluentFrame(7, proto, [1])], // Order is the second message of the file
    ['confluent', confluentFrame(7, proto, [1, 0])], // a nested message's path: read past alike
    ['glue', glueFrame(proto, { messageIndex: 1 })],
    ['glue', glueFrame(proto, { messageIndex: 1, zlib: true })],
  ] as const)('decodes %s records, keys and values (%#)', (wireFormat, bytes) => {
    const fn = protobufDeserializer({ type: Order, wireFormat });
    expect(plain(deserialize(fn, 'value', bytes))).toEqual(order);
    expect(plain(deserialize(fn, 'key', bytes))).toEqual(order);
  });

  it('reads a record Lambda delivered in SOURCE format (schema metadata present): no header, the message indexes still there', () => {
    // docs/aws-contracts.md §1a: Lambda removes the schema id; the indexes stay, as Powertools reads them.
    const confluent = confluentFrame(7, proto, [1]).subarray(5);
    const glue = glueFrame(proto, { messageIndex: 1 }).subarray(18);
    expect(
      plain(
        deserialize(protobufDeserializer({ type: Order, wireFormat: 'confluent' }), 'value', confluent, {
          dataFormat: 'PROTOBUF',
          schemaId: '7',
        }),
      ),
    ).toEqual(order);
    expect(
      plain(
        deserialize(protobufDeserializer({ type: Order, wireFormat: 'glue' }), 'value', glue, {
          dataFormat: 'PROTOBUF',
          schemaId: GLUE_SCHEMA_VERSION,
        }),
      ),
    ).toEqual(order);
  });

  it.each([
    [
      'confluent',
      Buffer.from('{"id":"o-1"}'),
      'value',
      'The value of orders-0@42 is not Confluent Protobuf: magic byte 0x7b, expected 0x00',
    ],
    [
      'confluent',
      Buffer.concat([confluentFrame(7, Buffer.alloc(0)), Buffer.from([0x7e, 1])]),
      'key',
      'The key of orders-0@42 is not Confluent Protobuf (schema id 7): its message-index count is 63, with 1 bytes left',
    ],
    [
      'confluent',
      Buffer.concat([confluentFrame(7, Buffer.alloc(0)), Buffer.from([4, 0, 0x80])]),
      'value',
      'is not Confluent Protobuf (schema id 7): its message index is cut short at byte 3',
    ],
    ['confluent', Buffer.concat([confluentFrame(7, Buffer.alloc(0)), Buffer.from([3])]), 'value', 'its message-index count is -2'],
    [
      'confluent',
      confluentFrame(7, proto.subarray(0, proto.length - 3), [1]),
      'value',
      'is not Confluent Protobuf (schema id 7): it does not decode as shop.Order (index out of range',
    ],
    [
      'glue',
      Buffer.concat([Buffer.from([3, 0]), Buffer.alloc(16), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]),
      'value',
      'is not Glue Protobuf (schema version 00000000-0000-0000-0000-000000000000): its message index has a varint longer than 5 bytes at byte 0',
    ],
    [
      'glue',
      Buffer.concat([Buffer.from([2]), glueFrame(proto, { messageIndex: 1 }).subarray(1)]),
      'value',
      'is not Glue Protobuf: header version byte 0x02, expected 0x03',
    ],
    [
      'raw',
      Buffer.from([0x0f, 0x10, 1]),
      'value',
      'The value of orders-0@42 is not raw Protobuf: it does not decode as shop.Order (invalid wire type 7 at offset 1)',
    ],
  ] as const)('refuses a %s record that is not, naming the field, the format and the reason (%#)', (wireFormat, bytes, field, message) => {
    const fn = protobufDeserializer({ type: Order, wireFormat });
    expect(() => deserialize(fn, field, bytes)).toThrow(DeserializationError);
    expect(() => deserialize(fn, field, bytes)).toThrow(message);
    expect(() => deserialize(fn, field, bytes)).toThrow(
      expect.objectContaining({ field, record: { topic: 'orders', partition: 0, offset: 42 }, cause: expect.any(MalformedDataError) }),
    );
  });

  it('reads past message indexes of several bytes, and a count of more than 63', () => {
    const fn = protobufDeserializer({ type: Order, wireFormat: 'confluent' });
    // The count 64 is the zigzag varint 0x80 0x01; index 300 is 0xd8 0x04.
    expect(plain(deserialize(fn, 'value', confluentFrame(7, proto, [300, ...Array<number>(63).fill(0)])))).toEqual(order);
    const glue = Buffer.concat([glueFrame(Buffer.alloc(0)), Buffer.from([0xac, 0x02]), proto]); // the header, index 300, the message
    expect(plain(deserialize(protobufDeserializer({ type: Order, wireFormat: 'glue' }), 'value', glue))).toEqual(order);
  });

  it.each([
    // A count of 2 with one byte after it: said as such, not read past the end.
    [Buffer.from([4, 0]), 'its message-index count is 2, with 1 bytes left'],
    // Five bytes that all say "more", then one that ends: a sixth byte is never read.
    [Buffer.from([2, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), 'its message index has a varint longer than 5 bytes at byte 1'],
  ])('refuses message indexes that do not fit (%#)', (indexes, message) => {
    const fn = protobufDeserializer({ type: Order, wireFormat: 'confluent' });
    expect(() => deserialize(fn, 'value', Buffer.concat([confluentFrame(7, Buffer.alloc(0)), indexes]))).toThrow(
      `is not Confluent Protobuf (schema id 7): ${message}`,
    );
  });

  it("keeps the decoder's error as the cause", () => {
    try {
      deserialize(protobufDeserializer({ type: Order, wireFormat: 'raw' }), 'value', Buffer.from([0x0f, 0x10, 1]));
      expect.unreachable();
    } catch (error) {
      expect(((error as Error).cause as Error).cause).toBeInstanceOf(Error);
      expect((((error as Error).cause as Error).cause as Error).message).toBe('invalid wire type 7 at offset 1');
    }
  });

  it('refuses a type without decode when the handler is built', () => {
    expect(() => protobufDeserializer({ type: {} as never, wireFormat: 'raw' })).toThrow(ConfigurationError);
    expect(() => protobufDeserializer({ type: undefined as never, wireFormat: 'raw' })).toThrow(ConfigurationError);
    expect(() => protobufDeserializer({ type: root.lookup('shop') as never, wireFormat: 'raw' })).toThrow(
      '`type` must be a protobufjs message type',
    );
  });

  it('through kafkaConsumer: a record that does not decode is dead-lettered as it came, naming the field', async () => {
    vi.spyOn(process.stdout, 'write').mockReturnValue(true); // the invocation's log line and metrics
    const queue = fakeQueue();
    const seen: unknown[] = [];
    const handler = kafkaConsumer<protobuf.Message, unknown>({
      deserializer: protobufDeserializer({ type: Order, wireFormat: 'glue' }),
      keyDeserializer: protobufDeserializer({ type: Order, wireFormat: 'glue' }),
      processRecord: (record) => void seen.push(plain(record.value)),
      deadLetterQueueUrl: 'http://queue',
      deadLetterTransport: queue.transport,
    });
    const good = glueFrame(proto, { messageIndex: 1 });
    const badKey = confluentFrame(7, proto, [1]);
    const response = await handler(
      buildKafkaEvent([
        { topic: 'orders', partition: 3, offset: 8, key: good, value: good },
        { topic: 'orders', partition: 3, offset: 9, key: badKey, value: good },
      ]),
      lambdaContext(),
    );

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([order]);
    expect(queue.sent.map((e) => [e.record.offset, e.record.key, e.record.value, e.error.type, e.error.message])).toEqual([
      [
        9,
        badKey.toString('base64'),
        good.toString('base64'),
        'DeserializationError',
        'The key of orders-3@9 is not Glue Protobuf: header version byte 0x00, expected 0x03',
      ],
    ]);
  });
});
