import type * as Zlib from 'node:zlib';
import kafkajs from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { KAFKA_COMPRESSION_CODECS, compressionFrom, registerKafkaCodecs } from '../../../src/kafka/kafka-codecs.js';
import { KafkaConsumersError } from '../../../src/contract/errors.js';

const { CompressionCodecs, CompressionTypes } = kafkajs;
type Codec = { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> };
const codec = (id: number) => (CompressionCodecs as Record<number, () => Codec>)[id]!();
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
};

describe('KAFKA_COMPRESSION', () => {
  it('names a codec Kafka defines; anything else is refused with the allowed values', () => {
    expect(compressionFrom({})).toBe(CompressionTypes.None);
    expect(compressionFrom({ KAFKA_COMPRESSION: '' })).toBe(CompressionTypes.None);
    expect(KAFKA_COMPRESSION_CODECS.map((name) => compressionFrom({ KAFKA_COMPRESSION: name }))).toEqual([
      CompressionTypes.None,
      CompressionTypes.GZIP,
      CompressionTypes.Snappy,
      CompressionTypes.LZ4,
      CompressionTypes.ZSTD,
    ]);
    expect(() => compressionFrom({ KAFKA_COMPRESSION: 'LZ4' })).toThrow(
      'KAFKA_COMPRESSION is "LZ4"; it must be one of none, gzip, snappy, lz4, zstd.',
    );
  });
});

// Kafka's codec ids (record batch attributes, bits 0–2): 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd.
describe('registerKafkaCodecs', () => {
  it.each([
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
  ])('teaches kafkajs %s (codec %i), both ways', async (_name, id) => {
    registerKafkaCodecs();
    registerKafkaCodecs(); // idempotent
    const text = Buffer.from('a record batch, a record batch, a record batch');
    const compressed = await codec(id).compress({ buffer: text });
    expect(compressed.equals(text)).toBe(false);
    expect(Buffer.isBuffer(compressed)).toBe(true);
    expect(await codec(id).decompress(compressed)).toEqual(text);
  });

  it('writes LZ4 frames (KIP-57) and zstd frames, by their magic numbers', async () => {
    registerKafkaCodecs();
    const lz4 = await codec(3).compress({ buffer: Buffer.from('x') });
    expect(lz4.subarray(0, 4).toString('hex')).toBe('04224d18');
    const zstd = await codec(4).compress({ buffer: Buffer.from('x') });
    expect(zstd.subarray(0, 4).toString('hex')).toBe('28b52ffd');
  });

  it.each([5, 6, 7])('refuses a batch naming codec %i, which Kafka does not define', (id) => {
    registerKafkaCodecs();
    expect(() => (CompressionCodecs as Record<number, () => Codec>)[id]!()).toThrow(
      `unknown compression codec ${id} in the record batch attributes (Kafka defines 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)`,
    );
    expect(thrown(() => codec(id))).toMatchObject({ name: 'UnsupportedCompressionError', codec: id });
    expect(thrown(() => codec(id))).toBeInstanceOf(KafkaConsumersError);
  });
});

describe('registerKafkaCodecs on a fresh process', () => {
  // Registration is process-wide and done once: a fresh copy of the module shows what it does.
  it('registers lz4 and the unknown ids, and createKafka registers them all', async () => {
    const codecs = CompressionCodecs as Record<number, unknown>;
    for (const id of [2, 3, 4, 5, 6, 7]) delete codecs[id];
    vi.resetModules();
    const { createKafka } = await import('../../../src/kafka/kafka-connection.js');
    await createKafka({ KAFKA_BROKERS: '127.0.0.1:9' });
    const lz4 = codec(3);
    expect(await lz4.decompress(await lz4.compress({ buffer: Buffer.from('abc') }))).toEqual(Buffer.from('abc'));
    expect(() => codec(5)).toThrow('unknown compression codec 5');
    expect(() => codec(7)).toThrow('unknown compression codec 7');
    expect(typeof codecs[2]).toBe('function');
  });
});

describe('zstd on a Node.js without it', () => {
  it('refuses the batch, naming the version needed and the codec', async () => {
    const codecs = CompressionCodecs as Record<number, unknown>;
    const registered = codecs[CompressionTypes.ZSTD];
    vi.resetModules();
    vi.doMock('node:zlib', async (original) => ({ ...(await original<typeof Zlib>()), zstdCompress: undefined }));
    try {
      (await import('../../../src/kafka/kafka-codecs.js')).registerKafkaCodecs();
      expect(() => codec(CompressionTypes.ZSTD)).toThrow(`zstd needs Node.js 22.15 or newer (node:zlib zstd); this is ${process.version}`);
      expect(thrown(() => codec(CompressionTypes.ZSTD))).toMatchObject({
        name: 'UnsupportedCompressionError',
        codec: CompressionTypes.ZSTD,
      });
    } finally {
      vi.doUnmock('node:zlib');
      codecs[CompressionTypes.ZSTD] = registered;
    }
  });
});
