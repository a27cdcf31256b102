import { encodedSize, type BrokerRecord } from './lambda-event.js';

/** Lambda's synchronous invocation payload limit (docs/aws-contracts.md §1). */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** One partition's fetched records, waiting to be invoked. */
export interface Fetch {
  /** `topic-partition`. */
  readonly id: string;
  /** In offset order, at least one. */
  readonly records: readonly BrokerRecord[];
  /** Called once, with the next offset to consume for this partition. */
  readonly done: (nextOffset: number) => void;
}

/** One invocation's records; an `oversized` one is a single record over the payload limit, never sent to the function. */
export interface Invocation {
  readonly records: BrokerRecord[];
  readonly oversized: boolean;
}

export interface BatchingRules {
  readonly batchSize: number;
  readonly windowMs: number;
}

interface Queued extends Fetch {
  readonly sizes: number[];
  /** The sum of `sizes`. */
  readonly bytes: number;
}

/**
 * Assembles fetches into invocations by the mapping's rules: an invocation goes when it holds
 * `batchSize` records or 6 MB, or when the batching window since the first waiting fetch ends.
 * It takes whole fetches of several partitions, in arrival order, and never two invocations of
 * one partition at a time (offset order).
 */
export class InvocationBatcher {
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Partitions with an invocation in flight. */
  readonly #busy = new Set<string>();

  /** `deliver` runs the invocations of these fetches and calls each fetch's `done`. */
  constructor(
    private readonly rules: BatchingRules,
    private readonly deliver: (fetches: readonly Fetch[], invocations: readonly Invocation[]) => Promise<void>,
  ) {}

  add(fetch: Fetch): void {
    const sizes = fetch.records.map(encodedSize);
    this.#queue.push({ ...fetch, sizes, bytes: sizes.reduce((a, b) => a + b, 0) });
    this.#schedule();
  }

  /** Takes back every fetch still waiting (none is delivered after this). */
  drain(): Fetch[] {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    return this.#queue.splice(0);
  }

  #schedule() {
    let queued = 0;
    let bytes = 0;
    for (const f of this.#queue) {
      queued += f.records.length;
      bytes += f.bytes;
    }
    if (queued >= this.rules.batchSize || bytes >= MAX_PAYLOAD_BYTES) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#dispatch();
    } else if (!this.#timer) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#dispatch();
      }, this.rules.windowMs);
    }
  }

  #dispatch() {
    for (let taken = this.#take(); taken.length > 0; taken = this.#take()) {
      for (const f of taken) this.#busy.add(f.id);
      void this.deliver(taken, splitIntoInvocations(taken, this.rules.batchSize)).finally(() => {
        for (const f of taken) this.#busy.delete(f.id);
        this.#dispatch(); // what waited for these partitions waited during the invocation already
      });
    }
  }

  // Up to batchSize records and 6 MB, whole fetches of idle partitions, in arrival order.
  #take(): Queued[] {
    const taken: Queued[] = [];
    let count = 0;
    let bytes = 0;
    for (const next of [...this.#queue]) {
      if (this.#busy.has(next.id)) continue;
      if (taken.length > 0 && (count + next.records.length > this.rules.batchSize || bytes + next.bytes > MAX_PAYLOAD_BYTES)) break;
      taken.push(next);
      this.#queue.splice(this.#queue.indexOf(next), 1);
      count += next.records.length;
      bytes += next.bytes;
    }
    return taken;
  }
}

/**
 * Cuts fetches into invocations of at most `batchSize` records and 6 MB each, in order: a fetch
 * larger than either is cut into several, and a record over 6 MB alone is an oversized one.
 */
function splitIntoInvocations(fetches: readonly Queued[], batchSize: number): Invocation[] {
  const invocations: Invocation[] = [];
  let current: BrokerRecord[] = [];
  let bytes = 0;
  for (const f of fetches) {
    f.records.forEach((r, i) => {
      const size = f.sizes[i]!;
      if (current.length > 0 && (current.length >= batchSize || bytes + size > MAX_PAYLOAD_BYTES)) {
        invocations.push({ records: current, oversized: false });
        current = [];
        bytes = 0;
      }
      if (size > MAX_PAYLOAD_BYTES) {
        invocations.push({ records: [r], oversized: true });
        return;
      }
      current.push(r);
      bytes += size;
    });
  }
  if (current.length > 0) invocations.push({ records: current, oversized: false });
  return invocations;
}
