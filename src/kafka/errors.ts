import { KafkaConsumersError } from '../contract/errors.js';

// The Kafka client layer's errors (its settings errors are the contract's ConfigurationError).

/**
 * The installed kafkajs lacks some of the project's patches (patches/README.md): `npm install`
 * applies them (patch-package, in the `prepare` script); an install with `--ignore-scripts`, or a
 * patch that no longer applies after a kafkajs upgrade, leaves them out.
 */
export class KafkajsNotPatchedError extends KafkaConsumersError {
  override name = 'KafkajsNotPatchedError';

  /** The patches missing, as named in patches/ (`001+consumed-headers-in-order`). */
  readonly missingPatches: readonly string[];

  constructor(missingPatches: readonly string[]) {
    super(
      `kafkajs is missing ${missingPatches.length === 1 ? 'the patch' : 'the patches'} ${missingPatches.map((p) => `patches/kafkajs+2.2.4+${p}.patch`).join(', ')}: ` +
        'run `npm install` (its prepare script runs patch-package --error-on-fail, which applies them or says which one fails); see patches/README.md.',
    );
    this.missingPatches = missingPatches;
  }
}
