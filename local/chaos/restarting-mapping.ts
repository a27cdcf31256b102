import { setTimeout as sleep } from 'node:timers/promises';
import type { EventSourceMappingEmulator } from '../esm/emulator.js';
import type { LocalLambdaApi } from '../lambda-api.js';
import { isClusterTrouble } from './consumer-progress.js';

/**
 * The chaos run's mapping, whose pollers restart as Lambda's do: a stopped emulator stays
 * stopped, so each restart (a scheduled one, or after kafkajs gave up over the cluster's
 * trouble) is a new emulator, a new member of the same group, one at a time.
 */
export class RestartingMapping {
  #emulator!: EventSourceMappingEmulator;
  #replacing: Promise<void> | undefined;
  /** Times kafkajs stopped the mapping's consumer for good over the cluster's trouble, and it was started again. */
  consumerCrashes = 0;
  /** Why the run cannot go on: the consumer stopped for another reason, or could not be started again. */
  fatal: Error | undefined;

  constructor(
    private readonly newEmulator: () => EventSourceMappingEmulator,
    private readonly lambdaApi: LocalLambdaApi,
    private readonly giveUpAt: number,
  ) {}

  /** The emulator polling now. */
  get emulator(): EventSourceMappingEmulator {
    return this.#emulator;
  }

  /** The restart under way, if any. */
  get replacing(): Promise<void> | undefined {
    return this.#replacing;
  }

  /** Starts a new emulator (a stopped one stays stopped), again after each failed start, until one is up. */
  async start(): Promise<void> {
    for (;;) {
      this.#emulator = this.newEmulator();
      // The same mapping to the Lambda API: a paused mapping's new pollers stay paused.
      this.lambdaApi.attach(this.#emulator);
      try {
        return await this.#emulator.start();
      } catch (error) {
        if (Date.now() > this.giveUpAt) throw error;
        await this.#emulator.stop().catch(() => undefined);
        await sleep(500);
      }
    }
  }

  /** The mapping's pollers restarted: the consumer stopped, a new member joins the group. */
  replace(): Promise<void> {
    return (this.#replacing ??= (async () => {
      await this.#emulator.stop();
      await this.start();
    })().finally(() => (this.#replacing = undefined)));
  }

  /**
   * kafkajs stops a consumer for good on some answers of a cluster in trouble (the embedded
   * cluster can answer a SyncGroup with INVALID_REQUEST while a broker is down); Lambda's
   * pollers carry on, so the consumer is started again. Any other reason to stop (a batch it
   * cannot decode) is {@link fatal}. Not while `stopped` says the pollers are meant to be down.
   * Returns what stops watching.
   */
  watchCrashes(stopped: () => boolean, log: (line: string) => void): () => void {
    const watcher = setInterval(() => {
      const error = this.#emulator.error;
      if (!error || this.#replacing || this.fatal || stopped()) return;
      if (!isClusterTrouble(error)) {
        this.fatal = error;
        return;
      }
      this.consumerCrashes++;
      log(`${error.message}; starting the mapping's consumer again, as Lambda's pollers carry on`);
      void this.replace().catch((e: Error) => (this.fatal = e));
    }, 500);
    return () => clearInterval(watcher);
  }
}
