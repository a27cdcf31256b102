import type Dynalite from 'dynalite';
import { importPeer } from './commands/peers.js';
import { listenLocally } from './local-server.js';

export interface EmbeddedDynamoDb {
  /** The value for `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** Requests served so far, by operation: `DynamoDB_20120810.BatchGetItem`, … (benchmarks count calls). */
  readonly requests: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * Starts dynalite, a DynamoDB server in pure JavaScript that speaks DynamoDB's wire protocol and
 * keeps its tables in memory, on 127.0.0.1. What it does not do (transactions, TTL deletion, …)
 * is in docs/local-development.md.
 */
export async function startEmbeddedDynamoDb(port = 0): Promise<EmbeddedDynamoDb> {
  // Loaded when needed: a package user who points AWS_ENDPOINT_URL_DYNAMODB elsewhere need not install it.
  const { default: dynalite } = await importPeer<{ default: typeof Dynalite }>('dynalite', 'the embedded DynamoDB');
  // Tables are ACTIVE at once: a local run should not wait half a second per table.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const requests = new Map<string, number>();
  server.on('request', (request: { headers: Record<string, unknown> }) => {
    const target = request.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target : 'unknown';
    requests.set(operation, (requests.get(operation) ?? 0) + 1);
  });
  const { endpoint, stop } = await listenLocally(server, port);
  return { endpoint, requests, stop };
}
