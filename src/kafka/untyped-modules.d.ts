// Declarations for the codec libraries that ship no types (used by kafka-codecs.ts only).
declare module 'lz4js' {
  /** Compresses to one LZ4 frame. */
  export function compress(source: Uint8Array): Uint8Array;
  /** Decompresses one LZ4 frame. */
  export function decompress(source: Uint8Array): Uint8Array;
}

declare module 'kafkajs-snappy' {
  /** kafkajs codec factory: raw snappy out, raw or xerial-framed snappy in. */
  const snappyCodec: () => { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> };
  export default snappyCodec;
}
