// Every error the breaker throws, in one place; each extends KafkaConsumersError.
import { KafkaConsumersError } from '../contract/errors.js';

/** A resumer invocation whose payload is not a tick or a force command; nothing was changed. */
export class BreakerCommandError extends KafkaConsumersError {
  override name = 'BreakerCommandError';
}

/** Some mappings' breakers could not be read or changed; the message names them and why. */
export class BreakerControlError extends KafkaConsumersError {
  override name = 'BreakerControlError';
}
