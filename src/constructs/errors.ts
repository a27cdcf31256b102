// The constructs' error family, in one place: every error a construct throws at synth is one of
// these, and each extends KafkaConsumersError.
import { KafkaConsumersError } from '../contract/errors.js';

export { KafkaConsumersError, ConfigurationError } from '../contract/errors.js';
/** A mapping setting is wrong: the rules the emulator applies too (src/mapping). */
export { MappingSettingsError } from '../mapping/errors.js';

/**
 * A construct prop that is not a mapping setting is wrong: the function (`entry`, `timeout`,
 * `memorySize`, `environment`), dead-letter storage, telemetry names, the cluster, the replay.
 * `prop` names the prop as the user wrote it.
 */
export class ConstructPropsError extends KafkaConsumersError {
  override name = 'ConstructPropsError';

  /**
   * @param prop the prop as the user wrote it, e.g. `memorySize`, `cluster.clusterArn`
   * @param message what is wrong and how to fix it
   */
  constructor(
    /** The prop as the user wrote it, e.g. `memorySize`, `cluster.clusterArn`. */
    readonly prop: string,
    message: string,
  ) {
    super(message);
  }
}
