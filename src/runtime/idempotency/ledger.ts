// What kafkaConsumer knows of the idempotency ledger: types only, so that the runtime's core
// imports none of the ledger's code and a handler without it bundles none of it (the ledger is
// made by `idempotencyLedger` of `kafka-lambda-consumers/runtime/idempotency`, ./index.ts).
import type { Logger } from '@aws-lambda-powertools/logger';
import type { IdempotencyKeyError } from '../errors.js';
import type { DecodedEvent, KafkaEventRecord, PartitionBatch } from '../event.js';
import type { OutcomeLedger } from '../outcome-ledger.js';
import type { KafkaRecord } from '../record.js';
import type { IdempotencyOptions } from './settings.js';

/**
 * What the ledger says of a record before it runs: `'run'` it, `'done'` (skip it), `'unknown'`
 * (the ledger could not be read: its partition is redelivered from it, neither run nor skipped),
 * or the error of a record without a valid business key (dead-lettered unrun).
 */
export type RecordState = 'run' | 'done' | 'unknown' | IdempotencyKeyError;

/** The times an invocation works to, epoch ms. */
export interface LedgerTimes {
  /** The Lambda deadline: the lease's end, free for others after it whatever became of this invocation. */
  readonly leaseUntil: number;
  /** No record starts after it: no waiting for a lease past it either. */
  readonly startBy: number;
  /** Done offsets must be in the table by then. */
  readonly writeBy: number;
}

/** One invocation's ledger, as the runtime uses it (IdempotencyGuard). */
export interface InvocationGuard {
  /** Waits for the partition's lease and what the table knows; false when the partition must be redelivered unrun. */
  claimed(partition: PartitionBatch): Promise<boolean>;
  /** After `claimed`: whether the record runs. */
  stateOf(partition: PartitionBatch, entry: KafkaEventRecord): RecordState;
  /** The record's work completed. */
  markDone(partition: PartitionBatch, entry: KafkaEventRecord): void;
  /** The id of the work a replayed copy or a keyed record stands for (two records with one id are one work); undefined for others. */
  workId(entry: KafkaEventRecord): string | undefined;
  /** The partition's records are finished: its done offsets are written and its lease let go. */
  release(partition: PartitionBatch): void;
  /** Writes what completed and lets every lease go; never throws, the same promise when called again. */
  finish(): Promise<void>;
}

/** Starts one invocation's ledger. */
export type StartGuard = (
  event: DecodedEvent,
  /** The invocation's awsRequestId: the lease's owner. */
  owner: string,
  times: LedgerTimes,
  outcomes: OutcomeLedger,
  logger: Logger,
  /** Deserializes a record as the runner does, for `key`. */
  deserialize: (record: KafkaRecord<unknown, unknown>) => void,
) => InvocationGuard;

/**
 * kafkaConsumer's `idempotency`: the ledger of what is done, made by `idempotencyLedger()` of
 * `kafka-lambda-consumers/runtime/idempotency` (docs/idempotency.md).
 */
export interface IdempotencyLedger<V = unknown, K = Buffer | null> {
  /** The options it was made with. */
  readonly options: IdempotencyOptions<V, K>;
  /**
   * Called once by kafkaConsumer as it builds the handler: checks the settings (a
   * ConfigurationError saying how to fix them) and returns what starts each invocation's ledger.
   * @internal
   */
  open(consumerGroupId: string | undefined, env: NodeJS.ProcessEnv): StartGuard;
}
