/** The Lambda event is not a Kafka event or is malformed: the message says what and where. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/** A setting (environment variable or option) is missing or wrong. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/**
 * Throw this (or a subclass) from user code for a failure that retrying cannot fix:
 * the record goes straight to the dead-letter queue.
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError';
}

/** The record's key or value could not be deserialized. Never retried. */
export class DeserializationError extends NonRetryableError {
  override name = 'DeserializationError';
}
