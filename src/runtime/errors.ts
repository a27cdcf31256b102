import { KafkaConsumersError } from '../contract/errors.js';

/** The Lambda event is not a Kafka event or is malformed: the message says what and where. */
export class InvalidEventError extends KafkaConsumersError {
  override name = 'InvalidEventError';
}

/**
 * Throw this (or a subclass) from user code for a failure that retrying cannot fix:
 * the record goes straight to the dead-letter queue.
 */
export class NonRetryableError extends KafkaConsumersError {
  override name = 'NonRetryableError';
}

/** The record's key or value could not be deserialized. Never retried. */
export class DeserializationError extends NonRetryableError {
  override name = 'DeserializationError';
}

/**
 * Thrown at the end of an invocation when records must be delivered again but the mapping has
 * partial batch responses off (`REPORT_BATCH_ITEM_FAILURES=false`): Lambda would ignore a
 * `batchItemFailures` answer and commit them, so the invocation fails and the whole batch is
 * retried. The message names each partition and the offset it must be redelivered from.
 */
export class WholeBatchRetryError extends KafkaConsumersError {
  override name = 'WholeBatchRetryError';
}
