import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { KAFKA_COMPRESSION_CODECS } from '../../src/contract/index.js';
import { kafkaConsumer } from '../../src/runtime/index.js';
import type { KafkaEvent } from '../../src/runtime/event.js';
import { EventSourceMappingEmulator, type Handler } from '../../local/esm/emulator.js';
import { kcatConsume, kcatProduce } from '../support/kcat.js';
import { produce } from '../support/kafka.js';

const env = inject('localEnv');
const HEADERS = [
  ['a', '1'],
  ['b', '2'],
  ['a', '3'],
] as const;
const PER_CODEC = 50;
let seq = 0;
const running: EventSourceMappingEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function emulate(topic: string, handler: Handler) {
  const emulator = new EventSourceMappingEmulator({
    kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }),
    topic,
    bootstrapServers: env.KAFKA_BROKERS,
    handler,
    settings: { topics: [topic], batchSize: 100, maxBatchingWindowSeconds: 0 },
  });
  running.push(emulator);
  await emulator.start();
  return emulator;
}

/** Waits for `done`, and fails at once with the emulator's own error if it stopped. */
async function until(emulator: EventSourceMappingEmulator, done: () => boolean, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (emulator.error) throw emulator.error;
    if (Date.now() > end) throw new Error('timed out waiting for the emulator');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('records from a real third-party producer (kcat, librdkafka)', () => {
  it('reach the handler from every codec, each with its headers in record order, duplicates kept', async () => {
    const topic = `e2e-kcat-${seq++}-${Date.now()}`;
    const produced = KAFKA_COMPRESSION_CODECS.flatMap((codec) => Array.from({ length: PER_CODEC }, (_, i) => `${codec}-${i}`));
    for (const codec of KAFKA_COMPRESSION_CODECS) {
      kcatProduce(
        env.KAFKA_BROKERS,
        topic,
        codec,
        produced.filter((v) => v.startsWith(`${codec}-`)),
        HEADERS,
      );
    }
    // The broker holds them as produced: a batch of each codec.
    expect(kcatConsume(env.KAFKA_BROKERS, topic).codecs).toEqual(new Set(['uncompressed', 'gzip', 'snappy', 'lz4', 'zstd']));
    // The example runtime behind the emulator, as the user ran it.
    const seen = new Map<string, string[][]>();
    const handler = kafkaConsumer<string>({
      deserializer: 'string',
      processRecord: async (record) =>
        void seen.set(
          record.value,
          [...record.headers].map((h) => [h.name, h.value.toString()]),
        ),
    });
    const emulator = await emulate(topic, (event, context) => handler(event, context));
    await until(emulator, () => emulator.stats.decided >= produced.length);

    expect(emulator.stats.processed).toBe(produced.length);
    expect([...seen.keys()].sort()).toEqual([...produced].sort());
    for (const value of produced) expect(seen.get(value), value).toEqual(HEADERS);
  });
});

// What kafkajs writes with a codec swapped in for one produce: a batch the broker stores as
// given (it does not decompress) and a consumer then cannot read.
async function produceWithCodec(codec: number, compress: (bytes: Buffer) => Buffer, topic: string) {
  const codecs = CompressionCodecs as Record<number, () => unknown>;
  const registered = codecs[codec];
  codecs[codec] = () => ({ compress: async ({ buffer }: { buffer: Buffer }) => compress(buffer) });
  try {
    const producer = (await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS })).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({ topic, acks: -1, compression: codec, messages: [{ value: 'unreadable', partition: 0 }] });
    await producer.disconnect();
  } finally {
    if (registered) codecs[codec] = registered;
    else delete codecs[codec];
  }
}

describe('a fetch the emulator cannot decode', () => {
  it.each([
    ['a corrupt zstd batch', CompressionTypes.ZSTD, () => Buffer.from('not zstd at all'), /Unknown frame descriptor|zstd|ZSTD/i],
    ['a batch naming an unknown codec (5)', 5, (bytes: Buffer) => bytes, /unknown compression codec 5/],
  ])('stops the emulator with an error naming topic, partition, offset and cause: %s', async (_, codec, compress, cause) => {
    const topic = `e2e-undecodable-${seq++}-${Date.now()}`;
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1, 2].map((i) => ({ value: `fine-${i}`, partition: 0 })),
    );
    await produceWithCodec(codec, compress, topic);
    const offsets: number[] = [];
    const emulator = await emulate(
      topic,
      async (event) =>
        void offsets.push(
          ...Object.values((event as KafkaEvent).records)
            .flat()
            .map((r) => r.offset),
        ),
    );
    await expect(until(emulator, () => false)).rejects.toThrow(new RegExp(`record batch at offset 3 of topic ${topic} partition 0: `));
    expect(emulator.error!.message).toMatch(cause);
    expect(emulator.error!.cause).toBeInstanceOf(Error); // kafkajs's own error, for its stack
    expect(offsets.every((o) => o < 3)).toBe(true); // the records before it may have come; nothing from it
  });
});
