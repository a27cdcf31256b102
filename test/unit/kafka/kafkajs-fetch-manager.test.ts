import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// patches/kafkajs+2.2.4+005+stopped-consumer-starts-no-fetchers.patch, fetchManager.js: a consumer stopped while its fetchers were being
// rebuilt (the cluster's brokers changed, as when one goes down) must not start new fetchers.
// Unpatched kafkajs starts them; they call the stopped runner's fetch, which answers [] at once,
// forever, without yielding to the event loop: the process hangs with no timer ever firing (seen
// in `npm run chaos`, where consumers restart while brokers come and go).
interface FetchManager {
  start(): Promise<void>;
  stop(): Promise<void>;
}
type CreateFetchManager = (options: {
  logger: unknown;
  getNodeIds: () => number[];
  fetch: (nodeId: number) => Promise<unknown[]>;
  handler: () => Promise<void>;
}) => FetchManager;
const createFetchManager = createRequire(import.meta.url)('kafkajs/src/consumer/fetchManager') as CreateFetchManager;

const quiet = { namespace: () => quiet, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

describe('kafkajs fetch manager (patched)', () => {
  it('starts no new fetchers once stopped, even when the brokers changed meanwhile', async () => {
    let nodeIds = [1, 2];
    let stopped = false;
    let fetchesAfterStop = 0;
    const manager = createFetchManager({
      logger: quiet,
      getNodeIds: () => nodeIds,
      handler: async () => undefined,
      // As kafkajs's runner fetches: nothing, at once, once the consumer is stopped.
      fetch: async () => {
        if (stopped) {
          // An unpatched manager would spin here for ever; end the spin so that the test fails instead of hanging.
          if (++fetchesAfterStop > 1_000) throw new Error('fetchers kept fetching after the consumer stopped');
          return [];
        }
        // The first fetch: a broker leaves the cluster and the consumer is stopped.
        nodeIds = [1];
        stopped = true;
        void manager.stop();
        return [];
      },
    });
    await expect(manager.start()).resolves.toBeUndefined();
    expect(fetchesAfterStop).toBe(0);
  });
});
