// What the park-key mode does with a record of a key, given the key's parked state: pure
// decisions, so that every case is tested without a table (test/unit/runtime/parking).
import type { ParkedKey } from './parked-key-store.js';

/**
 * `run`: the key is not parked, or the record is a release copy of its current epoch, or it comes
 * before the record the key was first parked behind (a redelivery of a record already run).
 * `park`: not run, written behind the key's head.
 * `head`: the record the key is parked behind, delivered again (its dead letter could not be
 * written, or the invocation did not answer): dead-lettered again unrun, so that the replay
 * releases what waits behind it.
 */
export type ParkDecision = 'run' | 'park' | 'head';

export function decide(state: ParkedKey | undefined, offset: number, copyEpoch: number | undefined): ParkDecision {
  if (state === undefined || state.released || copyEpoch === state.epoch || offset < state.since) return 'run';
  return offset === state.head ? 'head' : 'park';
}

/**
 * How a record that failed for good parks its key: a new epoch, and the state the write expects
 * (undefined: the key must not be parked). A release copy of the current epoch parks the key anew
 * behind it (epoch + 1), so that the later copies of the old epoch are parked behind it. Otherwise
 * the epoch is the time, in ms: a key released and parked again later never reuses an epoch that
 * copies still on the topic may carry (a released key's item keeps its epoch for the same reason). Undefined when the key is already parked behind a later
 * record (a redelivered record before the head): dead-lettered only, the key stays as it is.
 */
export function parkAnew(
  state: ParkedKey | undefined,
  offset: number,
  copyEpoch: number | undefined,
  now: number,
): { epoch: number; previous: ParkedKey | undefined } | undefined {
  if (state === undefined) return { epoch: now, previous: undefined };
  if (state.released) return { epoch: state.epoch + 1, previous: state };
  if (copyEpoch === state.epoch && offset > state.head) return { epoch: state.epoch + 1, previous: state };
  return undefined;
}

/** The parked state once `offset` is parked behind it. */
export const withParked = (state: ParkedKey, offset: number): ParkedKey =>
  offset > state.last ? { ...state, last: offset, count: state.count + 1 } : state;

/**
 * The state of a key parked behind `head`: anew behind a failed release copy of `previous` (it
 * keeps where the parking began and what the replay had not produced yet), else afresh.
 */
export function parkedState(head: number, epoch: number, previous: ParkedKey | undefined): ParkedKey {
  const anew = previous !== undefined && !previous.released;
  return { epoch, head, since: anew ? previous.since : head, after: anew ? (previous.produced ?? head) : head, last: head, count: 0 };
}
