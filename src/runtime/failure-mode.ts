// What becomes of a record that exhausts its retries (kafkaConsumer's `failureMode`): the option,
// else FAILURE_MODE (the construct sets it with the mapping settings the mode needs), else dead-letter.
import { ConfigurationError } from '../contract/errors.js';
import { ENV, FAILURE_MODES, type FailureMode } from '../contract/index.js';

export type { FailureMode } from '../contract/index.js';

const isFailureMode = (value: unknown): value is FailureMode => (FAILURE_MODES as readonly unknown[]).includes(value);

/** The handler's failure mode, checked once: the option, else `FAILURE_MODE`, else `'dead-letter'`. */
export function failureModeFrom(option: unknown, env: NodeJS.ProcessEnv): FailureMode {
  const modes = FAILURE_MODES.map((m) => `'${m}'`).join(', ');
  if (option !== undefined) {
    if (isFailureMode(option)) return option;
    throw new ConfigurationError(
      `failureMode must be one of ${modes}, got ${typeof option === 'string' ? `"${option.slice(0, 40)}"` : typeof option}.`,
    );
  }
  const value = env[ENV.failureMode];
  if (value === undefined || value === '') return 'dead-letter';
  if (isFailureMode(value)) return value;
  throw new ConfigurationError(
    `${ENV.failureMode} is "${value.slice(0, 40)}"; it must be one of ${modes} (the KafkaConsumer construct sets it from its failureMode prop), or unset for 'dead-letter'.`,
  );
}
