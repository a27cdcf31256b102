// Every error the runtime throws, in one place: each extends KafkaConsumersError and carries its
// facts as fields (which field of which record, which partitions), the message saying the same.
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

/** Where a record sits in Kafka: what an error may say of a record without quoting it. */
export interface RecordCoordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** What a `DeserializationError` knows besides its message. */
export interface DeserializationErrorOptions extends ErrorOptions {
  /** Which of the record's fields did not deserialize. */
  readonly field?: 'key' | 'value';
  /** The record whose field it is. */
  readonly record?: RecordCoordinates;
}

/** The record's key or value could not be deserialized. Never retried. */
export class DeserializationError extends NonRetryableError {
  override name = 'DeserializationError';
  /** Which of the record's fields did not deserialize (absent when user code threw this without saying). */
  readonly field?: 'key' | 'value';
  /** The record's topic, partition and offset (absent when user code threw this without saying). */
  readonly record?: RecordCoordinates;

  constructor(message: string, options: DeserializationErrorOptions = {}) {
    const { field, record, ...errorOptions } = options;
    super(message, errorOptions);
    if (field !== undefined) this.field = field;
    // The coordinates only: a KafkaRecord given here must not carry its key and value along.
    if (record !== undefined) this.record = { topic: record.topic, partition: record.partition, offset: record.offset };
  }
}

/**
 * Why bytes are not in the format a deserializer reads (a header, a message index, data that
 * does not decode), before it is known whose bytes they are: the `DeserializationError` that
 * names the field and the record keeps it as its `cause`.
 */
export class MalformedDataError extends KafkaConsumersError {
  override name = 'MalformedDataError';
}

/** A partition the mapping must deliver again, from `offset` on. */
export interface Redelivery {
  /** The event's `<topic>-<partition>` key. */
  readonly partition: string;
  readonly offset: number;
}

/**
 * Thrown at the end of an invocation when records must be delivered again but the mapping has
 * partial batch responses off (`REPORT_BATCH_ITEM_FAILURES=false`): Lambda would ignore a
 * `batchItemFailures` answer and commit them, so the invocation fails and the whole batch is
 * retried. The message names each partition and the offset it must be redelivered from, and
 * `redeliveries` holds them.
 */
export class WholeBatchRetryError extends KafkaConsumersError {
  override name = 'WholeBatchRetryError';
  /** Each partition that must be delivered again and the offset it must be redelivered from. */
  readonly redeliveries: readonly Redelivery[];

  constructor(message: string, options: ErrorOptions & { readonly redeliveries: readonly Redelivery[] }) {
    const { redeliveries, ...errorOptions } = options;
    super(message, errorOptions);
    this.redeliveries = redeliveries;
  }
}

/** A dead-letter body that is not one of ours, or is damaged: the message and `fields` say which field. */
export class MalformedDeadLetterError extends KafkaConsumersError {
  override name = 'MalformedDeadLetterError';
  /** The envelope fields at fault, e.g. `['record.timestamp']`; empty when the body as a whole is. */
  readonly fields: readonly string[];

  constructor(message: string, options: ErrorOptions & { readonly fields?: readonly string[] } = {}) {
    const { fields = [], ...errorOptions } = options;
    super(message, errorOptions);
    this.fields = fields;
  }
}

/**
 * One entry of an AWS batch call (SendMessageBatch, DeleteMessageBatch) the service reported as
 * failed. Named by the service's code and given the HTTP status class the SDK would give its own
 * error (`$metadata`), so that the retry policy classifies both alike: a sender fault is not
 * worth retrying.
 */
export class BatchEntryError extends KafkaConsumersError {
  /** The service's error code, e.g. `InternalFailure`. */
  readonly code: string;
  /** Whether the service blamed the request (a 400) rather than itself (a 500). */
  readonly senderFault: boolean;
  readonly $metadata: { readonly httpStatusCode: number };

  constructor(code: string, message: string | undefined, senderFault: boolean) {
    super(`${code}${message ? `: ${message}` : ''}`);
    this.name = code;
    this.code = code;
    this.senderFault = senderFault;
    this.$metadata = { httpStatusCode: senderFault ? 400 : 500 };
  }
}

/**
 * `idempotencyLedger({ key })` gave no usable key for a record (it threw, or returned something that is not
 * a non-empty string that fits a DynamoDB key). Never retried: the record is dead-lettered, and
 * the message says what was wrong without quoting the record.
 */
export class IdempotencyKeyError extends NonRetryableError {
  override name = 'IdempotencyKeyError';
}

/**
 * What a parked record's envelope (failureMode 'park-key') says instead of an error: it did not
 * fail, it was not run because its key is parked behind a record that did.
 */
export class KeyParkedError extends KafkaConsumersError {
  override name = 'KeyParkedError';
}
