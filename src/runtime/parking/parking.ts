// What the record runner knows of the park-key mode: types only, so that the runtime's core
// imports none of its code; ./key-parking.ts is loaded (import()) by handlers in park-key mode only.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeadLetters } from '../dead-letters.js';
import type { DeadLetterTrace } from '../envelope.js';
import type { DecodedEvent, KafkaEventRecord, PartitionBatch } from '../event.js';
import type { OutcomeLedger } from '../outcome-ledger.js';
import type { KafkaRecord } from '../record.js';

/** Before a record runs: `run` it, `hold` it (parked, or dead-lettered again unrun: see `hold`). */
export type ParkingState = 'run' | 'hold';

/** The times an invocation works to, epoch ms. */
export interface ParkingTimes {
  /** The keys' parked state must be read by then (no record starts after it). */
  readonly startBy: number;
  /** Parked records and keys must be written by then. */
  readonly writeBy: number;
}

/** One invocation's park-key decisions (KeyParking). */
export interface InvocationParking {
  /** Waits for the parked state of the invocation's keys; false when it could not be read (redeliver, run nothing). */
  ready(): Promise<boolean>;
  /** After `ready`: whether the record runs or is held. */
  stateOf(partition: PartitionBatch, entry: KafkaEventRecord): ParkingState;
  /**
   * Holds a record `stateOf` said to: false when it could not be (its partition is redelivered from it).
   * `trace` (tracing on): its trace contexts, for the parked record's envelope.
   */
  hold(partition: PartitionBatch, entry: KafkaEventRecord, trace?: DeadLetterTrace): Promise<boolean>;
  /**
   * Dead-letters a record that failed for good, its key parked behind it (a keyed record): false
   * when the key could not be parked (its partition is redelivered from it, nothing dead-lettered).
   */
  deadLetter(
    partition: PartitionBatch,
    entry: KafkaEventRecord,
    record: KafkaRecord<unknown, unknown>,
    error: unknown,
    attempts: number,
    firstFailureAt: number,
    trace?: DeadLetterTrace,
  ): Promise<boolean>;
}

/** Starts one invocation's parking. */
export type StartParking = (
  event: DecodedEvent,
  deadLetters: DeadLetters,
  times: ParkingTimes,
  outcomes: OutcomeLedger,
  logger: Logger,
) => InvocationParking;
