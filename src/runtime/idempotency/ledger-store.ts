import type { Lease } from './ledger-policy.js';

/** An item of the ledger's table as read: a partition's done offsets (text) and the expiry. */
export interface StoredItem {
  /** {@link OffsetRanges} as text (partition items). */
  readonly done?: string;
  /** Epoch seconds. */
  readonly expiresAt?: number;
}

/**
 * The calls the ledger makes on its table. Each retries transient failures (throttling, 5xx,
 * network) until `deadline` (epoch ms) and then throws; a condition that does not hold is an
 * answer, not a failure.
 */
export interface LedgerStore {
  /**
   * Takes a partition item's lease for `owner` until `until` unless another invocation holds it
   * (`until` in the future). Returns the item as it was before (undefined: none), or `'held'`.
   */
  claim(
    id: string,
    owner: string,
    until: number,
    expiresAt: number,
    now: number,
    deadline: number,
  ): Promise<StoredItem | undefined | 'held'>;
  /** Reads a partition item's lease (strongly consistent). */
  lease(id: string, deadline: number): Promise<Lease | undefined>;
  /**
   * Writes a partition's done offsets while `owner` holds its lease, and lets the lease go when
   * `release`. False when the lease is no longer `owner`'s.
   */
  save(id: string, owner: string, done: string, expiresAt: number, release: boolean, deadline: number): Promise<boolean>;
  /** Reads items by id (strongly consistent); absent ones are not in the map. */
  getItems(ids: readonly string[], deadline: number): Promise<Map<string, StoredItem>>;
  /** Writes items that say "done" by their id alone. */
  putItems(ids: readonly string[], expiresAt: number, deadline: number): Promise<void>;
}
