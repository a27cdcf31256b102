import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { KafkaBatchProcessor, type KafkaBatchResponse, type KafkaConsumerOptions } from './batch-processor.js';

export type { KafkaBatchResponse, KafkaConsumerOptions } from './batch-processor.js';
export { KafkaBatchProcessor } from './batch-processor.js';
export { KafkaRecord, RecordHeaders, type KafkaHeader, type TimestampType, type EventHeaders, type SchemaMetadata } from './record.js';
export type { KafkaEvent, KafkaEventRecord } from './event.js';
export type { Deserializer, DeserializerFn } from './deserializers.js';
export type { RetryOptions } from './retry.js';
export { isOutageError, type OutageOptions } from './outage.js';
export type { TelemetryOptions } from './telemetry.js';
export type { TracingOptions } from './tracing.js';
export type { IdempotencyOptions } from './idempotency/settings.js';
export type { IdempotencyLedger } from './idempotency/ledger.js';
export type { DeadLetterTransport, OutgoingMessage, FailedEntry } from './dead-letter-writer.js';
export { KafkaConsumersError, ConfigurationError, type ErrorDescription } from '../contract/errors.js';
export {
  NonRetryableError,
  DeserializationError,
  InvalidEventError,
  WholeBatchRetryError,
  MalformedDeadLetterError,
  IdempotencyKeyError,
  type DeserializationErrorOptions,
  type RecordCoordinates,
  type Redelivery,
} from './errors.js';
export type { DeadLetterEnvelope, DeadLetterPointer, DeadLetterTrace, TraceCarrier } from './envelope.js';

/**
 * Turns per-record (or per-batch) business logic into a Lambda handler for MSK and
 * self-managed Kafka events: decoding, ordering, retries, dead-lettering, the partial batch
 * response and metrics are the runtime's. Returns a middy handler: add middlewares with `.use()`.
 */
export function kafkaConsumer<V = unknown, K = Buffer | null>(options: KafkaConsumerOptions<V, K>) {
  const processor = new KafkaBatchProcessor(options);
  return middy<unknown, KafkaBatchResponse, Error, Context>().handler((event, context) => processor.process(event, context));
}
