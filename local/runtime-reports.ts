// What the runtime says it did, summed over every invocation of a local run (npm start, npm run
// chaos): the runtime's own account, next to the ground truth's, which does not trust it.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { CHANNELS } from '../src/contract/index.js';
import type { TopicStats } from '../src/runtime/telemetry.js';

export class RuntimeReports {
  /** Records the idempotency ledger said were already done, so the runtime did not run them. */
  skippedAsDone = 0;
  readonly #onStats = (message: unknown) => {
    for (const t of (message as { stats: Map<string, TopicStats> }).stats.values()) this.skippedAsDone += t.skippedAsDone;
  };

  /** Starts listening to {@link CHANNELS.invocationStats}, in this thread and (forwarded) in sandboxes. */
  constructor() {
    subscribe(CHANNELS.invocationStats, this.#onStats);
  }

  close(): void {
    unsubscribe(CHANNELS.invocationStats, this.#onStats);
  }
}
