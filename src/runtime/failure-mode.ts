// What becomes of a record that exhausts its retries (kafkaConsumer's `failureMode`): the option,
// else FAILURE_MODE (the construct sets it with the mapping settings the mode needs), else dead-letter.
import { ConfigurationError } from '../contract/errors.js';
import { ENV, FAILURE_MODES, type FailureMode } from '../contract/index.js';

export type { FailureMode } from '../contract/index.js';

const isFailureMode = (value: unknown): value is FailureMode => (FAILURE_MODES as readonly unknown[]).includes(value);

/**
 * The handler's failure mode, checked once: the option, else `FAILURE_MODE`, else `'dead-letter'`.
 * An option that differs from `FAILURE_MODE` is refused: the construct configured the mapping for
 * its mode (block: no destination, infinite retries), and a mapping set up for another mode could
 * skip what the option promises to hold.
 */
export function failureModeFrom(option: unknown, env: NodeJS.ProcessEnv): FailureMode {
  const modes = FAILURE_MODES.map((m) => `'${m}'`).join(', ');
  const value = env[ENV.failureMode];
  if (value !== undefined && value !== '' && !isFailureMode(value))
    throw new ConfigurationError(
      `${ENV.failureMode} is "${value.slice(0, 40)}"; it must be one of ${modes} (the KafkaConsumer construct sets it from its failureMode prop), or unset for 'dead-letter'.`,
    );
  if (option === undefined) return value || 'dead-letter';
  if (!isFailureMode(option))
    throw new ConfigurationError(
      `failureMode must be one of ${modes}, got ${typeof option === 'string' ? `"${option.slice(0, 40)}"` : typeof option}.`,
    );
  if (value && value !== option)
    throw new ConfigurationError(
      `failureMode is '${option}' but ${ENV.failureMode} is '${value}': the function's mapping was set up for '${value}' and could skip records '${option}' must hold. Give the KafkaConsumer construct failureMode: '${option}' (it sets ${ENV.failureMode} and the mapping to match), or leave the option out.`,
    );
  return option;
}
