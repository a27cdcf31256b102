import { buildApp } from 'fauxqs';

/** Dummy credentials: the emulator accepts any, the SDK insists on some. */
export const LOCAL_AWS_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } as const;

export interface EmbeddedAws {
  /** The value for `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs, an SQS/S3 server that speaks the real AWS protocols, on
 * 127.0.0.1 (its own `startFauxqs` binds every interface, which a laptop should not).
 */
export async function startEmbeddedAws(port = 0): Promise<EmbeddedAws> {
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  const address = await app.listen({ port, host: '127.0.0.1' });
  return { endpoint: address, stop: () => app.close() };
}
