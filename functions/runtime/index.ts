import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { KafkaBatchProcessor, type KafkaBatchResponse, type KafkaConsumerOptions } from './batch-processor';

export type { KafkaBatchResponse, KafkaConsumerOptions } from './batch-processor';
export { KafkaBatchProcessor } from './batch-processor';
export { KafkaRecord, RecordHeaders, type KafkaHeader } from './record';
export type { KafkaEvent, KafkaEventRecord } from './event';
export type { Deserializer } from './deserializers';
export type { RetryOptions } from './retry';
export { NonRetryableError, DeserializationError, InvalidEventError, ConfigurationError, WholeBatchRetryError } from './errors';
export type { DeadLetterEnvelope, DeadLetterPointer } from './envelope';

/**
 * Turns per-record (or per-batch) business logic into a Lambda handler for MSK and
 * self-managed Kafka events: decoding, ordering, retries, dead-lettering, the partial batch
 * response and metrics are the runtime's. Returns a middy handler: add middlewares with `.use()`.
 */
export function kafkaConsumer<V = unknown, K = Buffer | null>(options: KafkaConsumerOptions<V, K>) {
  const processor = new KafkaBatchProcessor(options);
  return middy<unknown, KafkaBatchResponse, Error, Context>().handler((event, context) => processor.process(event, context));
}
