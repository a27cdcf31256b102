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
