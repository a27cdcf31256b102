// failureMode 'block': a record that fails for good is never dead-lettered. The runner holds it
// the way it holds an unfinished record (its partition redelivered from it, outcome-ledger.ts):
// this only remembers where each partition is blocked, so that no later record of the partition
// starts (ordering 'key' runs a partition's keys side by side), and says so once per partition.
import type { Logger } from '@aws-lambda-powertools/logger';
import { describeError } from '../contract/errors.js';
import type { OutcomeLedger } from './outcome-ledger.js';

/** Where a partition is blocked in an invocation: the lowest offset that failed for good. */
export interface BlockedPartition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** The error's type (never its message: it may quote the record). */
  readonly errorType: string;
  readonly attempts: number;
}

interface Coordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly partitionKey: string;
}

/** One invocation's blocked partitions. */
export class PartitionBlocks {
  readonly #byPartition = new Map<string, BlockedPartition>();

  /** `record` failed for good with `error` after `attempts`: its partition stops at it (the lowest such offset). */
  hold(record: Coordinates, error: unknown, attempts: number): void {
    const held = this.#byPartition.get(record.partitionKey);
    if (held && held.offset <= record.offset) return;
    const { topic, partition, offset } = record;
    this.#byPartition.set(record.partitionKey, { topic, partition, offset, errorType: describeError(error).type, attempts });
  }

  /** Whether the partition (`topic-partition`) is blocked at or before `offset`: then that record must not start. */
  blocks(partitionKey: string, offset: number): boolean {
    const held = this.#byPartition.get(partitionKey);
    return held !== undefined && held.offset <= offset;
  }

  /** One `partition blocked` line per blocked partition, and their counts; answers them for the metrics. */
  report(ledger: OutcomeLedger, logger: Logger): BlockedPartition[] {
    const blocked = [...this.#byPartition.values()];
    for (const b of blocked) {
      ledger.topicStats(b.topic).blocked++;
      logger.error('partition blocked', { ...b });
    }
    return blocked;
  }
}
