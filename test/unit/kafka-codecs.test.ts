import { CompressionTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { compressionFrom } from '../../functions/runtime/kafka-codecs';

describe('KAFKA_COMPRESSION', () => {
  it('names a codec Kafka defines; anything else is refused with the allowed values', () => {
    expect(compressionFrom({})).toBe(CompressionTypes.None);
    expect(compressionFrom({ KAFKA_COMPRESSION: 'lz4' })).toBe(CompressionTypes.LZ4);
    expect(() => compressionFrom({ KAFKA_COMPRESSION: 'LZ4' })).toThrow('KAFKA_COMPRESSION is "LZ4"; it must be one of none, gzip, snappy, lz4, zstd.');
  });
});
