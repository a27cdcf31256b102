// Every error the Kafka client layer throws, in one place; each extends KafkaConsumersError.
import { KafkaConsumersError } from '../contract/errors.js';

/**
 * A record batch is compressed with a codec this process cannot read or write: one Kafka does not
 * define, or zstd on a Node.js without it. `codec` is the id in the batch's attributes.
 */
export class UnsupportedCompressionError extends KafkaConsumersError {
  override name = 'UnsupportedCompressionError';
  /** The codec's id in the record batch attributes (Kafka defines 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
  readonly codec: number;

  constructor(message: string, options: ErrorOptions & { readonly codec: number }) {
    const { codec, ...errorOptions } = options;
    super(message, errorOptions);
    this.codec = codec;
  }
}

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
