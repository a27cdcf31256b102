import type { Logger } from '@aws-lambda-powertools/logger';
import { describeError } from '../../contract/errors.js';
import type { IdempotencyKeyError } from '../errors.js';
import { recordAt, type DecodedEvent, type KafkaEventRecord, type PartitionBatch } from '../event.js';
import type { KafkaRecord } from '../record.js';
import { sleep } from '../retry.js';
import type { OutcomeLedger } from '../outcome-ledger.js';
import { OffsetRanges } from '../offset-ranges.js';
import { expired, expiryFrom, flushDelay, heldByAnother, leaseWait } from './ledger-policy.js';
import { originalOf, userKeyOf, type IdempotencyKeyFunction, type ItemIds } from './record-identity.js';
import type { LedgerStore, StoredItem } from './ledger-store.js';
import type { InvocationGuard, LedgerTimes, RecordState } from './ledger.js';

/** The ledger's settings, validated once per handler. */
export interface LedgerSettings {
  readonly store: LedgerStore;
  readonly ids: ItemIds;
  readonly key: IdempotencyKeyFunction | undefined;
  readonly expirySeconds: number;
  readonly flushIntervalMs: number;
  /** Ranges of done offsets kept per partition (see OffsetRanges). */
  readonly maxRanges: number;
}

/** A topic-partition of the invocation: its lease and the offsets done, known and new. */
interface PartitionState {
  readonly batch: PartitionBatch;
  readonly id: string;
  claim: Promise<boolean>;
  done: OffsetRanges;
  /** Records done since the table last took the offsets. */
  unsaved: number;
  lastFlushAt: number;
  flushing: Promise<void> | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The lease was lost (another invocation took it past our deadline): nothing more is written. */
  lost: boolean;
  /** The last write, letting the lease go: once started, nothing more is written. */
  release: Promise<void> | undefined;
}

/** How a record that is not known by its offset alone is known: its item, and for a replayed copy its original's partition. */
interface KeyedRecord {
  readonly id: string;
  readonly original?: { readonly partitionItem: string; readonly offset: number };
}

/**
 * One invocation's idempotency: it takes each topic-partition's lease (waiting while a live
 * invocation holds it), reads which records are done (one conditional update per partition, one
 * batched read for replayed copies and business keys), says of each record whether it runs, and
 * writes what completed: in the background while records run (at most one write in flight and one
 * every `flushIntervalMs` per partition), and all of it, letting the leases go, before the
 * invocation answers.
 */
export class IdempotencyGuard implements InvocationGuard {
  readonly #partitions = new Map<string, PartitionState>();
  readonly #keyed = new Map<KafkaEventRecord, KeyedRecord | IdempotencyKeyError>();
  /** The batched read's items; undefined while it runs, 'failed' when the table could not be read. */
  #items: Map<string, StoredItem> | 'failed' | undefined;
  #lookup: Promise<void> = Promise.resolve();
  /** Ids of replayed copies and business keys done in this invocation, and their topics: the same work is not run twice in one batch either. */
  readonly #doneKeys = new Map<string, string>();
  #finished: Promise<void> | undefined;

  constructor(
    readonly settings: LedgerSettings,
    readonly event: DecodedEvent,
    /** The invocation's awsRequestId: the lease's owner. */
    readonly owner: string,
    readonly times: LedgerTimes,
    readonly outcomes: OutcomeLedger,
    readonly logger: Logger,
    /** Deserializes a record as the runner does, for `key`. */
    readonly deserialize: (record: KafkaRecord<unknown, unknown>) => void,
  ) {
    const now = Date.now();
    for (const batch of event.partitions) {
      const state: PartitionState = {
        batch,
        id: settings.ids.partition(batch.topic, batch.partition),
        claim: Promise.resolve(false),
        done: new OffsetRanges(),
        unsaved: 0,
        lastFlushAt: now,
        flushing: undefined,
        timer: undefined,
        lost: false,
        release: undefined,
      };
      state.claim = this.#claim(state);
      this.#partitions.set(batch.id, state);
    }
    this.#identify();
  }

  /** Waits for the partition's lease and what the table knows; false when the partition must be redelivered unrun. */
  async claimed(partition: PartitionBatch): Promise<boolean> {
    const held = await this.#partitions.get(partition.id)!.claim;
    await this.#lookup;
    return held;
  }

  /** Whether a record of a claimed partition runs, is skipped as done, or cannot be decided. */
  stateOf(partition: PartitionBatch, entry: KafkaEventRecord): RecordState {
    const state = this.#partitions.get(partition.id)!;
    if (state.done.has(entry.offset)) return 'done';
    const keyed = this.#keyed.get(entry);
    if (keyed === undefined) return 'run';
    if (!('id' in keyed)) return keyed;
    if (this.#doneKeys.has(keyed.id)) return 'done';
    const items = this.#items;
    if (items === undefined || items === 'failed') return 'unknown';
    const now = Date.now();
    const item = items.get(keyed.id);
    if (item && !expired(item.expiresAt, now)) return 'done';
    if (keyed.original) {
      const original = items.get(keyed.original.partitionItem);
      if (original && !expired(original.expiresAt, now) && OffsetRanges.parse(original.done).has(keyed.original.offset)) return 'done';
    }
    return 'run';
  }

  workId(entry: KafkaEventRecord): string | undefined {
    const keyed = this.#keyed.get(entry);
    return keyed !== undefined && 'id' in keyed ? keyed.id : undefined;
  }

  /** The record's work is done: written in the background, and for good before the invocation answers. */
  markDone(partition: PartitionBatch, entry: KafkaEventRecord): void {
    const state = this.#partitions.get(partition.id)!;
    state.done.add(entry.offset);
    state.unsaved++;
    const keyed = this.#keyed.get(entry);
    if (keyed !== undefined && 'id' in keyed) this.#doneKeys.set(keyed.id, partition.topic);
    this.#scheduleFlush(state);
  }

  /**
   * The partition's records are finished (processed, dead-lettered or to be redelivered): writes
   * its done offsets and lets its lease go at once, not when the whole invocation ends, so that an
   * invocation waiting for it (one that holds another partition this one waits for, say) need not.
   */
  release(partition: PartitionBatch): void {
    const state = this.#partitions.get(partition.id)!;
    state.release ??= (async () => {
      clearTimeout(state.timer);
      await state.flushing;
      if ((await state.claim) && !state.lost) await this.#save(state, true);
      this.outcomes.topicStats(state.batch.topic).doneNotRecorded += state.unsaved;
    })();
  }

  /**
   * Writes every done record and lets the leases still held go. Never throws: the work is done
   * whatever the table says; a write that fails is logged and counted (`doneNotRecorded`), and
   * those records would run again only if redelivered. Once: later calls wait for the first.
   */
  finish(): Promise<void> {
    return (this.#finished ??= this.#finish());
  }

  async #finish(): Promise<void> {
    const { store, expirySeconds } = this.settings;
    const releases = [...this.#partitions.values()].map((state) => {
      this.release(state.batch);
      return state.release;
    });
    const keys = (async () => {
      if (this.#doneKeys.size === 0) return;
      try {
        await store.putItems([...this.#doneKeys.keys()], expiryFrom(Date.now(), expirySeconds), this.times.writeBy);
      } catch (error) {
        for (const topic of this.#doneKeys.values()) this.outcomes.topicStats(topic).doneNotRecorded++;
        this.logger.warn(
          'the idempotency ledger could not record replayed or keyed records as done; they would run again if delivered again',
          {
            records: this.#doneKeys.size,
            error: describeError(error).message,
          },
        );
      }
    })();
    await Promise.all([...releases, keys]);
  }

  // Takes the lease, waiting while a live invocation holds it, within this invocation's time.
  async #claim(state: PartitionState): Promise<boolean> {
    const { store, expirySeconds } = this.settings;
    const { leaseUntil, startBy } = this.times;
    try {
      for (let attempt = 0; ;) {
        const now = Date.now();
        const before = await store.claim(state.id, this.owner, leaseUntil, expiryFrom(now, expirySeconds), now, startBy);
        if (before !== 'held') {
          if (before && !expired(before.expiresAt, now)) state.done = OffsetRanges.parse(before.done);
          state.lastFlushAt = Date.now();
          return true;
        }
        // Held: look (a read, cheaper than a failed write) until it is free, then take it. Free
        // already (let go between the two calls): a millisecond's wait, so that a table that
        // keeps refusing cannot keep this loop from ever yielding.
        for (let free = false; !free;) {
          const lease = await store.lease(state.id, startBy);
          const at = Date.now();
          free = !heldByAnother(lease, this.owner, at);
          const wait = leaseWait(free ? at : lease!.until!, at, startBy, attempt++);
          if (wait === undefined) {
            this.logger.warn('another invocation still holds this partition in the idempotency ledger; it will be redelivered', {
              partition: state.batch.id,
            });
            return false;
          }
          await sleep(wait);
        }
      }
    } catch (error) {
      this.logger.error('the idempotency ledger could not be read; the partition will be redelivered, none of its records run', {
        partition: state.batch.id,
        error: describeError(error).message,
      });
      return false;
    }
  }

  // The records known by more than their offset, and one batched read of their items.
  #identify(): void {
    const { key } = this.settings;
    const itemIds: string[] = [];
    for (const batch of this.event.partitions) {
      for (const entry of batch.entries) {
        const keyed = key ? this.#userKeyed(batch, entry, key) : this.#replayed(batch, entry);
        if (keyed === undefined) continue;
        this.#keyed.set(entry, keyed);
        if (!('id' in keyed)) continue;
        itemIds.push(keyed.id);
        if (keyed.original) itemIds.push(keyed.original.partitionItem);
      }
    }
    if (itemIds.length === 0) {
      this.#items = new Map();
      return;
    }
    this.#lookup = this.settings.store.getItems(itemIds, this.times.startBy).then(
      (items) => void (this.#items = items),
      (error: unknown) => {
        this.#items = 'failed';
        this.logger.error(
          'the idempotency ledger could not be read for replayed or keyed records; their partitions will be redelivered from them',
          {
            error: describeError(error).message,
          },
        );
      },
    );
  }

  #replayed(batch: PartitionBatch, entry: KafkaEventRecord): KeyedRecord | undefined {
    const original = originalOf(entry, batch.topic);
    if (!original) return undefined;
    const { ids } = this.settings;
    return {
      id: ids.record(original),
      original: { partitionItem: ids.partition(original.topic, original.partition), offset: original.offset },
    };
  }

  // A record whose value does not deserialize gets no business key: it runs, and fails as it would.
  #userKeyed(batch: PartitionBatch, entry: KafkaEventRecord, key: IdempotencyKeyFunction): KeyedRecord | IdempotencyKeyError | undefined {
    const record = recordAt(batch, entry);
    try {
      this.deserialize(record);
    } catch {
      return undefined;
    }
    const { ids } = this.settings;
    const result = userKeyOf(record, key, ids.maxUserKeyBytes);
    return typeof result === 'string' ? { id: ids.userKey(result) } : result;
  }

  #scheduleFlush(state: PartitionState): void {
    if (state.timer !== undefined || state.flushing !== undefined || state.release !== undefined || state.lost) return;
    state.timer = setTimeout(
      () => {
        state.timer = undefined;
        state.flushing = this.#save(state, false).finally(() => {
          state.flushing = undefined;
          if (state.unsaved > 0) this.#scheduleFlush(state);
        });
      },
      flushDelay(state.lastFlushAt, Date.now(), this.settings.flushIntervalMs),
    );
  }

  // Writes the partition's done offsets (capped), letting the lease go when `release`.
  async #save(state: PartitionState, release: boolean): Promise<void> {
    const { store, expirySeconds, maxRanges } = this.settings;
    state.lastFlushAt = Date.now();
    const saving = state.unsaved;
    state.unsaved = 0;
    state.done.cap(maxRanges);
    try {
      const kept = await store.save(
        state.id,
        this.owner,
        state.done.toString(),
        expiryFrom(Date.now(), expirySeconds),
        release,
        this.times.writeBy,
      );
      if (kept) return;
      state.lost = true;
      this.logger.warn(
        "another invocation took this partition in the idempotency ledger after this one's deadline; its done records were not written",
        {
          partition: state.batch.id,
        },
      );
    } catch (error) {
      this.logger.warn('the idempotency ledger could not record done records; they would run again if delivered again', {
        partition: state.batch.id,
        error: describeError(error).message,
      });
    }
    // Written by the next write, or counted as not recorded when there is none (finish).
    state.unsaved += saving;
  }
}
