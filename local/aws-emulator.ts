import type * as Fauxqs from 'fauxqs';
import { importPeer } from './commands/peers.js';

/** Dummy credentials: the emulator accepts any, the SDK insists on some. */
export const LOCAL_AWS_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' } as const;

export interface EmbeddedAws {
  /** The value for `AWS_ENDPOINT_URL`. */
  readonly endpoint: string;
  /** Requests served so far, by API: `AmazonSQS.SendMessageBatch`, `S3 PUT`, … (benchmarks count calls). */
  readonly requests: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * Starts fauxqs, an SQS/S3 server that speaks the real AWS protocols, on
 * 127.0.0.1 (its own `startFauxqs` binds every interface, which a laptop should not).
 */
export async function startEmbeddedAws(port = 0): Promise<EmbeddedAws> {
  // Loaded when needed: a package user who points AWS_ENDPOINT_URL elsewhere need not install it.
  const { buildApp } = await importPeer<typeof Fauxqs>('fauxqs', 'the embedded SQS/S3');
  const app = buildApp({ logger: false, host: '127.0.0.1' });
  const requests = new Map<string, number>();
  app.addHook('onRequest', async (request: { headers: Record<string, unknown>; method: string }) => {
    const target = request.headers['x-amz-target'];
    const api = typeof target === 'string' ? target : `S3 ${request.method}`;
    requests.set(api, (requests.get(api) ?? 0) + 1);
  });
  const address = await app.listen({ port, host: '127.0.0.1' });
  return { endpoint: address, requests, stop: () => app.close() };
}
