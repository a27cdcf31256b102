// Every error the mapping's rules throw, in one place; each extends KafkaConsumersError.
import { KafkaConsumersError } from '../contract/errors.js';

/** A setting that is out of range or inconsistent; the message names it, its value and what is allowed. */
export class MappingSettingsError extends KafkaConsumersError {
  override name = 'MappingSettingsError';
}

/** A filter pattern Lambda would refuse; the message names the pattern and the rule. */
export class FilterPatternError extends KafkaConsumersError {
  override name = 'FilterPatternError';
}
