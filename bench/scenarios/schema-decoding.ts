// Scenario: one event of 10,000 Avro (then Protobuf) order records over 10 partitions, as a
// mapping with a Confluent schema registry delivers them in SOURCE format (header removed by
// Lambda, the Protobuf message index kept, schema metadata on each record), a no-op user
// function; ours, Powertools' Kafka utility and a bare decoding loop decode the same records.
import protobuf from 'protobufjs';
import avsc from 'avsc';
import { kafkaConsumer, type DeserializerFn } from '../../src/runtime/index.js';
import { avroDeserializer } from '../../src/runtime/avro.js';
import { protobufDeserializer } from '../../src/runtime/protobuf.js';
import type { KafkaEvent } from '../../src/runtime/event.js';
import { buildKafkaEvent } from '../../local/esm/lambda-event.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { powertoolsHandler } from '../baselines/powertools-kafka.js';
import { noop, orderRecords, type BenchHandler } from '../fixtures.js';
import { progress, runScenario, timeMs } from '../measure.js';
import { scenario } from '../results.js';

const RECORDS = 10_000;
const PARTITIONS = 10;
const WARMUP_SAMPLES = 2;
const TIMED_SAMPLES = 10;
const SCHEMA_ID = '7';

const avroSchema = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'customerId', type: 'string' },
    { name: 'amount', type: 'int' },
    { name: 'currency', type: 'string' },
    { name: 'createdAt', type: 'string' },
    {
      name: 'items',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'Item',
          fields: [
            { name: 'sku', type: 'string' },
            { name: 'quantity', type: 'int' },
            { name: 'price', type: 'double' },
          ],
        },
      },
    },
    {
      name: 'shipping',
      type: {
        type: 'record',
        name: 'Address',
        fields: ['street', 'city', 'postcode', 'country'].map((name) => ({ name, type: 'string' })),
      },
    },
    { name: 'note', type: 'string' },
  ],
} satisfies avsc.Schema;
const { root } = protobuf.parse(`
  syntax = "proto3";
  package shop;
  message Item { string sku = 1; int32 quantity = 2; double price = 3; }
  message Address { string street = 1; string city = 2; string postcode = 3; string country = 4; }
  message Order {
    string id = 1; string customerId = 2; int32 amount = 3; string currency = 4; string createdAt = 5;
    repeated Item items = 6; Address shipping = 7; string note = 8;
  }
`);
const ProtoOrder = root.lookupType('shop.Order');
const AvroOrder = avsc.Type.forSchema(avroSchema);

/** The orders of the throughput scenarios (about 300 bytes of JSON each), encoded by the library, as Lambda delivers them in SOURCE format. */
function eventText(dataFormat: 'AVRO' | 'PROTOBUF', encode: (order: unknown) => Buffer): string {
  const records = orderRecords(RECORDS, PARTITIONS, { bytes: 0 }).map((r) => ({ ...r, value: encode(JSON.parse(r.value as string)) }));
  const event = buildKafkaEvent(records);
  for (const list of Object.values(event.records)) for (const r of list) r.valueSchemaMetadata = { dataFormat, schemaId: SCHEMA_ID };
  return JSON.stringify(event);
}

function ours(deserializer: DeserializerFn<unknown>): BenchHandler {
  const handler = kafkaConsumer({ deserializer, processRecord: (record) => noop(record.value) });
  return (event, context) => handler(event, context);
}

/** The least any handler must do: base64-decode and decode each value with the library. */
function floor(decode: (bytes: Buffer) => unknown): BenchHandler {
  return async (event) => {
    for (const records of Object.values(event.records)) for (const r of records) noop(decode(Buffer.from(r.value as string, 'base64')));
    return { batchItemFailures: [] };
  };
}

async function measure(codec: 'avro' | 'protobuf', text: string, handlers: Record<string, BenchHandler>) {
  const best: Record<string, number> = Object.fromEntries(Object.keys(handlers).map((name) => [name, Infinity]));
  for (let sample = 0; sample < WARMUP_SAMPLES + TIMED_SAMPLES; sample++) {
    for (const [name, handler] of Object.entries(handlers)) {
      // interleaved: a slow moment hits each alike
      const event = JSON.parse(text) as KafkaEvent; // the Lambda runtime's parse, not timed
      const context = lambdaContext(60_000);
      const ms = await timeMs(() => handler(event, context));
      if (sample >= WARMUP_SAMPLES) best[name] = Math.min(best[name]!, ms);
    }
  }
  const perSecond = (name: string) => (RECORDS / best[name]!) * 1_000;
  progress(
    `${codec}: ${Object.keys(handlers)
      .map((n) => `${n} ${Math.round(perSecond(n))}/s`)
      .join(', ')}`,
  );
  return scenario(
    `schema-decoding-${codec}`,
    'records/s',
    true,
    perSecond('ours'),
    { floor: perSecond('floor'), powertools: perSecond('powertools') },
    {
      records: RECORDS,
      partitions: PARTITIONS,
      valueBytes: Buffer.from(JSON.parse(text).records['orders-0'][0].value, 'base64').length,
      delivery: 'SOURCE, Confluent schema registry',
      userFunction: 'no-op',
      timedSamples: TIMED_SAMPLES,
      warmupSamples: WARMUP_SAMPLES,
      statistic: 'best sample',
    },
  );
}

runScenario(async () => [
  await measure(
    'avro',
    eventText('AVRO', (order) => AvroOrder.toBuffer(order)),
    {
      ours: ours(avroDeserializer({ schema: avroSchema, wireFormat: 'confluent' })),
      floor: floor((bytes) => AvroOrder.fromBuffer(bytes)),
      powertools: powertoolsHandler(noop, { type: 'avro', schema: JSON.stringify(avroSchema) }),
    },
  ),
  await measure(
    'protobuf',
    eventText('PROTOBUF', (order) => Buffer.concat([Buffer.from([0]), ProtoOrder.encode(ProtoOrder.fromObject(order as object)).finish()])),
    {
      ours: ours(protobufDeserializer({ type: ProtoOrder, wireFormat: 'confluent' })),
      floor: floor((bytes) => ProtoOrder.decode(bytes.subarray(1))),
      powertools: powertoolsHandler(noop, { type: 'protobuf', schema: ProtoOrder }),
    },
  ),
]);
