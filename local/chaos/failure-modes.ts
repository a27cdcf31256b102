// The chaos run under an order-safe failure mode (`--failure-mode block|park-key`): what the
// construct would set for the mode (FAILURE_MODE, the mapping settings it requires), the keyed
// demo mix, the ground truth's order scope, and for block the data fix that unblocks the
// blocked partitions once the other partitions have caught up around them.
import { ENV, type FailureMode } from '../../src/contract/index.js';
import type { MappingSettings } from '../../src/mapping/mapping-settings.js';
import { failingKey, KEYED_KEYS } from '../demo-workload.js';
import type { GroundTruth, GroundTruthOptions } from '../ground-truth.js';
import type { HandlerFaults } from './handler-faults.js';

/** The consumer's environment for the mode, as the construct sets it (the local services name the table). */
export function failureModeEnvironment(mode: FailureMode, consumerGroupId: string): Record<string, string> {
  // The replay waits for this group's committed offsets before it releases a parked key.
  return mode === 'dead-letter' ? {} : { [ENV.failureMode]: mode, [ENV.consumerGroup]: consumerGroupId };
}

/** The mapping as the construct requires it for block: infinite retries (and, see run.ts, no on-failure destination). */
export function failureModeSettings<S extends Partial<MappingSettings>>(mode: FailureMode, settings: S): S {
  return mode === 'block' ? { ...settings, retryAttempts: -1 } : settings;
}

/** How the ground truth checks order for the mode, and which keys must never be delayed. */
export function failureModeTruth(mode: FailureMode): GroundTruthOptions {
  if (mode === 'dead-letter') return {};
  const cleanKey = (key: string) => !failingKey(Number(key.slice('order-'.length)));
  return mode === 'block' ? { order: 'partition', cleanKey } : { order: 'key-with-replays', cleanKey };
}

/** What block mode showed: partitions blocked when the data was fixed, and how they and the others fared. */
export interface BlockReport {
  /** Partitions still short of their records when the data was fixed (held at a failure). */
  blockedPartitions: number;
  /** Of those, the ones whose every record was processed at the end. */
  blockedPartitionsResumed: number;
  /** Partitions without failures that had processed every record before the fix (they did not wait). */
  cleanPartitionsCaughtUp: number;
  cleanPartitions: number;
}

/** Longest the fix waits for the clean partitions to catch up: past it, the data is fixed anyway (and the report shows it). */
const FIX_AT_LATEST_MS = 180_000;

/**
 * Block mode's fix: once every record is produced, the schedule has run a rotation and every
 * partition without failures has caught up, the permanent failures' data is corrected.
 */
export class BlockFix {
  readonly #blocked = new Set<string>();
  readonly #clean: string[];
  #cleanCaughtUp = 0;
  #timer: NodeJS.Timeout;

  constructor(
    private readonly truth: GroundTruth,
    faults: HandlerFaults,
    topic: string,
    partitions: number,
    ready: () => boolean,
    log: (line: string) => void,
  ) {
    const failing = new Set(
      Array.from({ length: KEYED_KEYS }, (_, k) => k)
        .filter(failingKey)
        .map((k) => k % partitions),
    );
    this.#clean = Array.from({ length: partitions }, (_, p) => p)
      .filter((p) => !failing.has(p))
      .map((p) => `${topic}-${p}`);
    const startedAt = Date.now();
    this.#timer = setInterval(() => {
      if (!ready()) return;
      const counts = truth.partitionCounts();
      const done = (id: string) => counts.get(id)!.processed === counts.get(id)!.produced;
      this.#cleanCaughtUp = this.#clean.filter(done).length;
      if (this.#cleanCaughtUp < this.#clean.length && Date.now() - startedAt < FIX_AT_LATEST_MS) return;
      for (const id of counts.keys()) if (!done(id)) this.#blocked.add(id);
      faults.dataFixed = true;
      clearInterval(this.#timer);
      log(
        `data fixed: ${this.#blocked.size} partitions blocked (${[...this.#blocked].join(', ')}), ${this.#cleanCaughtUp} of ${this.#clean.length} clean ones caught up`,
      );
    }, 500);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  report(): BlockReport {
    const counts = this.truth.partitionCounts();
    const resumed = [...this.#blocked].filter((id) => counts.get(id)!.processed === counts.get(id)!.produced);
    return {
      blockedPartitions: this.#blocked.size,
      blockedPartitionsResumed: resumed.length,
      cleanPartitionsCaughtUp: this.#cleanCaughtUp,
      cleanPartitions: this.#clean.length,
    };
  }
}
