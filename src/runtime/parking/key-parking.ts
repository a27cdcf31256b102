// The park-key mode's consumer side, loaded (import()) only by handlers in that mode.
import type { Logger } from '@aws-lambda-powertools/logger';
import { describeError } from '../../contract/errors.js';
import { PARK_EPOCH_HEADER } from '../../contract/index.js';
import type { DeadLetters } from '../dead-letters.js';
import type { DeadLetterTrace } from '../envelope.js';
import { KeyParkedError } from '../errors.js';
import { recordAt, type DecodedEvent, type KafkaEventRecord, type PartitionBatch } from '../event.js';
import type { OutcomeLedger } from '../outcome-ledger.js';
import type { KafkaRecord } from '../record.js';
import { decide, parkAnew, withParked } from './park-decision.js';
import type { Changed, ParkedKey, ParkedKeyStore } from './parked-key-store.js';
import { keyHashOf, parkedKeyItemId, parkedRecordObjectKey, parkingGroup, type ParkedKeyCoordinates } from './parked-key-names.js';
import type { InvocationParking, ParkingState, ParkingTimes } from './parking.js';

/** The mode's settings, checked once per handler. */
export interface ParkingSettings {
  readonly store: ParkedKeyStore;
  readonly consumerGroupId: string | undefined;
  /** The clock new epochs are taken from. @default Date.now */
  readonly now?: () => number;
}

interface KeyOf {
  readonly id: string;
  readonly coordinates: ParkedKeyCoordinates;
}

const isChanged = (result: ParkedKey | Changed): result is Changed => 'changed' in result;

/**
 * One invocation's park-key decisions: one batched read of the parked state of its distinct keys
 * before any record runs, then, record by record (a key's records run in order, one at a time),
 * run, park (the envelope to S3, then the key's item), or dead-letter and park the key. Records
 * without a key are left to the dead-letter path: no key, no order to keep. Whatever cannot be
 * written or read sends the partition back from the record: nothing runs out of order, nothing is lost.
 */
export class KeyParking implements InvocationParking {
  readonly #keys = new Map<KafkaEventRecord, KeyOf>();
  readonly #states = new Map<string, ParkedKey>();
  readonly #read: Promise<boolean>;
  readonly #now: () => number;

  constructor(
    readonly settings: ParkingSettings,
    readonly event: DecodedEvent,
    readonly deadLetters: DeadLetters,
    readonly times: ParkingTimes,
    readonly outcomes: OutcomeLedger,
    readonly logger: Logger,
  ) {
    this.#now = settings.now ?? Date.now;
    const ids = new Set<string>();
    for (const batch of event.partitions) {
      const group = parkingGroup(settings.consumerGroupId, batch.topic);
      for (const entry of batch.entries) {
        if (entry.key === undefined || entry.key === null) continue;
        const coordinates = { group, topic: batch.topic, partition: batch.partition, keyHash: keyHashOf(entry.key) };
        const id = parkedKeyItemId(coordinates);
        this.#keys.set(entry, { id, coordinates });
        ids.add(id);
      }
    }
    this.#read = ids.size === 0 ? Promise.resolve(true) : this.#readStates([...ids]);
  }

  ready(): Promise<boolean> {
    return this.#read;
  }

  stateOf(_partition: PartitionBatch, entry: KafkaEventRecord): ParkingState {
    const key = this.#keys.get(entry);
    if (!key) return 'run';
    return decide(this.#states.get(key.id), entry.offset, copyEpochOf(entry)) === 'run' ? 'run' : 'hold';
  }

  async hold(partition: PartitionBatch, entry: KafkaEventRecord, trace?: DeadLetterTrace): Promise<boolean> {
    const key = this.#keys.get(entry)!;
    const state = this.#states.get(key.id)!;
    const record = recordAt(partition, entry);
    if (entry.offset === state.head) {
      const again = new KeyParkedError(
        `Delivered again after its dead letter could not be written (or its invocation did not answer); its key is parked behind it at epoch ${state.epoch}, so it is dead-lettered again unrun.`,
      );
      this.deadLetters.add(record, again, 0, this.#now(), { epoch: state.epoch }, trace);
      return true;
    }
    try {
      await this.deadLetters.park(record, state.head, parkedRecordObjectKey(key.coordinates, entry.offset), trace);
      const result = await this.settings.store.append(key.id, state.epoch, entry.offset, this.times.writeBy);
      if (isChanged(result)) {
        // Parked already (a redelivery), or the key changed since it was read: decide again next time.
        const now = result.changed;
        if (now?.epoch !== state.epoch || now.last < entry.offset)
          return this.#redeliver(partition, entry, 'the key changed while parking');
        this.#states.set(key.id, now);
      } else {
        this.#states.set(key.id, withParked(state, entry.offset));
      }
      this.outcomes.topicStats(partition.topic).parked++;
      return true;
    } catch (error) {
      return this.#redeliver(partition, entry, describeError(error).message);
    }
  }

  async deadLetter(
    partition: PartitionBatch,
    entry: KafkaEventRecord,
    record: KafkaRecord<unknown, unknown>,
    error: unknown,
    attempts: number,
    firstFailureAt: number,
    trace?: DeadLetterTrace,
  ): Promise<boolean> {
    const key = this.#keys.get(entry);
    const state = key && this.#states.get(key.id);
    const anew = key && parkAnew(state, entry.offset, copyEpochOf(entry), this.#now());
    if (!key || !anew) {
      // No key (no order to keep), or a record before the one its key is parked behind (delivered
      // again): dead-lettered only, no `parked`: the replay must not release the key with it.
      this.deadLetters.add(record, error, attempts, firstFailureAt, undefined, trace);
      return true;
    }
    try {
      const result = await this.settings.store.park(key.id, entry.offset, anew.epoch, anew.previous, this.times.writeBy);
      if (isChanged(result)) {
        const now = result.changed;
        // Parked behind this very record already: a retry whose first write went through.
        if (now?.head !== entry.offset) return this.#redeliver(partition, entry, 'the key changed while parking it');
        this.#states.set(key.id, now);
      } else {
        this.#states.set(key.id, result);
        this.outcomes.topicStats(partition.topic).keysParked++;
      }
    } catch (failure) {
      return this.#redeliver(partition, entry, describeError(failure).message);
    }
    this.deadLetters.add(record, error, attempts, firstFailureAt, { epoch: this.#states.get(key.id)!.epoch }, trace);
    return true;
  }

  async #readStates(ids: string[]): Promise<boolean> {
    try {
      for (const [id, state] of await this.settings.store.read(ids, this.times.startBy)) this.#states.set(id, state);
      return true;
    } catch (error) {
      this.logger.error('the parked keys could not be read; the partitions will be redelivered, none of their records run', {
        error: describeError(error).message,
      });
      return false;
    }
  }

  #redeliver(partition: PartitionBatch, entry: KafkaEventRecord, why: string): false {
    // The coordinates and the service's error only: never the record's key or value.
    this.logger.error('a record of a parked key could not be parked; its partition will be redelivered from it', {
      partition: partition.id,
      offset: entry.offset,
      error: why,
    });
    return false;
  }
}

/** The park epoch a release copy carries (`x-dlq-park-epoch`); undefined for any other record. */
export function copyEpochOf(entry: KafkaEventRecord): number | undefined {
  for (const header of entry.headers ?? []) {
    if (typeof header !== 'object' || header === null) continue;
    const bytes = Object.hasOwn(header, PARK_EPOCH_HEADER) ? header[PARK_EPOCH_HEADER] : undefined;
    if (!Array.isArray(bytes) || !bytes.every(Number.isInteger)) continue;
    // Lambda writes header bytes as Java signed bytes: masked to a byte, then read as UTF-8.
    const text = Buffer.from(bytes).toString('utf8');
    return /^\d{1,16}$/.test(text) ? Number(text) : undefined;
  }
  return undefined;
}
