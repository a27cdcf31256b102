import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server of the local tools, bound to 127.0.0.1. */
export interface LocalServer {
  /** `http://127.0.0.1:<port>`: the value for an `AWS_ENDPOINT_URL_*` variable. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Binds `server` to 127.0.0.1 (`port` 0: a free one); rejects when the port is taken. */
export async function listenLocally(server: Server, port = 0): Promise<LocalServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of SDK clients would hold the close until they time out.
        server.closeAllConnections();
      }),
  };
}
