import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import snappyCodec from 'kafkajs-snappy';
import * as lz4 from 'lz4js';
import { ENV, KAFKA_COMPRESSION_CODECS, type KafkaCompression } from '../contract/index.js';
import { ConfigurationError } from '../contract/errors.js';
import { UnsupportedCompressionError } from './errors.js';

// kafkajs reads and writes gzip itself and throws "not implemented" for the other codecs
// Kafka defines; every Kafka client of the project gets them here, from pure JavaScript
// libraries (nothing native to build, bundle or match to Lambda's architecture).

// Node's ESM loader does not see these among kafkajs's (CommonJS) named exports.
const { CompressionCodecs, CompressionTypes } = kafkajs;
type CompressionTypes = kafkajs.CompressionTypes;

const TYPES: Record<KafkaCompression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// Kafka's LZ4 is the LZ4 frame format (KIP-57), which lz4js reads and writes.
const lz4Codec: Codec = {
  compress: async ({ buffer }) => asBuffer(lz4.compress(buffer)),
  decompress: async (buffer) => asBuffer(lz4.decompress(buffer)),
};

// Node's zlib has zstd from Node 22.15 / 23.8 on (Lambda's nodejs24.x and the pinned Node 24 have it).
let zstd: Codec | undefined;
function zstdCodec(): Codec {
  if (zstd) return zstd;
  if (typeof zlib.zstdCompress !== 'function') {
    throw new UnsupportedCompressionError(`zstd needs Node.js 22.15 or newer (node:zlib zstd); this is ${process.version}`, {
      codec: CompressionTypes.ZSTD,
    });
  }
  const compress = promisify(zlib.zstdCompress);
  const decompress = promisify(zlib.zstdDecompress);
  return (zstd = { compress: ({ buffer }) => compress(buffer), decompress: (buffer) => decompress(buffer) });
}

// Kafka defines codecs 0–4; kafkajs would read a batch naming any other as uncompressed garbage.
const unknownCodec = (id: number) => () => {
  throw new UnsupportedCompressionError(
    `unknown compression codec ${id} in the record batch attributes (Kafka defines 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)`,
    { codec: id },
  );
};

let registered = false;

/** Teaches kafkajs (process-wide) every codec Kafka defines. Idempotent. */
export { KAFKA_COMPRESSION_CODECS, type KafkaCompression };

export function registerKafkaCodecs(): void {
  if (registered) return;
  registered = true;
  const codecs = CompressionCodecs as Record<number, () => Codec>;
  codecs[CompressionTypes.Snappy] = snappyCodec;
  codecs[CompressionTypes.LZ4] = () => lz4Codec;
  codecs[CompressionTypes.ZSTD] = zstdCodec;
  for (const id of [5, 6, 7]) codecs[id] = unknownCodec(id);
}

/** The codec a producer compresses with, from `KAFKA_COMPRESSION` (default `none`). */
export function compressionFrom(env: NodeJS.ProcessEnv): CompressionTypes {
  const name = env[ENV.kafkaCompression] || 'none';
  if (!(KAFKA_COMPRESSION_CODECS as readonly string[]).includes(name)) {
    throw new ConfigurationError(`${ENV.kafkaCompression} is "${name}"; it must be one of ${KAFKA_COMPRESSION_CODECS.join(', ')}.`);
  }
  return TYPES[name as KafkaCompression];
}
