// Every error the replay throws, in one place; each extends KafkaConsumersError.
import { KafkaConsumersError } from '../contract/errors.js';

/**
 * A replay request that cannot be served; nothing has been read when this is thrown. `fields`
 * names the request fields at fault (`filter.topic` for a nested one), empty when the payload
 * as a whole is.
 */
export class ReplayRequestError extends KafkaConsumersError {
  override name = 'ReplayRequestError';
  /** The request fields at fault, e.g. `['maxMessages']`; empty when the payload as a whole is. */
  readonly fields: readonly string[];

  constructor(message: string, options: ErrorOptions & { readonly fields?: readonly string[] } = {}) {
    const { fields = [], ...errorOptions } = options;
    super(message, errorOptions);
    this.fields = fields;
  }
}

/** An object under the on-failure prefix that is not a readable on-failure record: the message says what is wrong. */
export class MalformedOnFailureObjectError extends KafkaConsumersError {
  override name = 'MalformedOnFailureObjectError';
}

/** A parked key the replay could not release (no parking settings, or Kafka's answer without the copies' offset); its dead letter stays in the queue. */
export class ParkedKeyReleaseError extends KafkaConsumersError {
  override name = 'ParkedKeyReleaseError';
}
