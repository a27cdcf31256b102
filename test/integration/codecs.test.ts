import { describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { compressionFrom } from '../../src/kafka/kafka-codecs.js';
import { KAFKA_COMPRESSION_CODECS } from '../../src/contract/index.js';
import { kcatConsume } from '../support/kcat.js';

const env = inject('localEnv');

describe('what our kafkajs producer writes, a third-party consumer (kcat, librdkafka) reads', () => {
  it('with every codec, headers in the order given, duplicates kept', async () => {
    const topic = `codecs-${Date.now()}`;
    const producer = (await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS })).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    const orderedHeaders = [
      { key: 'a', value: Buffer.from('1') },
      { key: 'b', value: Buffer.from('2') },
      { key: 'a', value: Buffer.from('3') },
    ];
    for (const codec of KAFKA_COMPRESSION_CODECS) {
      // Repetitive values, so that every codec has something to compress.
      const messages = Array.from({ length: 20 }, (_, i) => ({
        value: `${codec} ${i} ${'order '.repeat(20)}`,
        partition: 0,
        orderedHeaders,
      }));
      await producer.send({ topic, acks: -1, compression: compressionFrom({ KAFKA_COMPRESSION: codec }), messages });
    }
    await producer.disconnect();

    const { records, codecs } = kcatConsume(env.KAFKA_BROKERS, topic);
    expect(codecs).toEqual(new Set(['uncompressed', 'gzip', 'snappy', 'lz4', 'zstd']));
    expect(records).toHaveLength(20 * KAFKA_COMPRESSION_CODECS.length);
    for (const codec of KAFKA_COMPRESSION_CODECS) expect(records.filter((r) => r.value.startsWith(`${codec} `))).toHaveLength(20);
    expect(records.every((r) => r.headers === 'a=1,b=2,a=3')).toBe(true);
  });
});
