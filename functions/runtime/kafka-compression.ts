// The codec names alone, without the codec libraries: the constructs check a prop against
// them at synth without loading kafkajs.

/** The codecs Kafka defines, as `KAFKA_COMPRESSION` and the replay's `compression` prop name them. */
export const KAFKA_COMPRESSION_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSION_CODECS)[number];
