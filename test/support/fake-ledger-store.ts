// An in-memory LedgerStore for unit tests of the ledger's decisions: the conditional updates'
// semantics of the DynamoDB store (tested against the local DynamoDB in test/e2e), with every
// call recorded and a switch that makes the table unreachable.
import type { Lease } from '../../src/runtime/idempotency/ledger-policy.js';
import type { LedgerStore, StoredItem } from '../../src/runtime/idempotency/ledger-store.js';

interface Item {
  owner?: string;
  until?: number;
  done?: string;
  expiresAt?: number;
}

export class FakeLedgerStore implements LedgerStore {
  readonly items = new Map<string, Item>();
  readonly calls: string[] = [];
  /** While set, every call fails as a network error would. */
  unreachable = false;

  #enter(name: string) {
    this.calls.push(name);
    if (this.unreachable) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' });
  }

  async claim(id: string, owner: string, until: number, expiresAt: number, now: number) {
    this.#enter('claim');
    const item = this.items.get(id);
    if (item?.until !== undefined && !(item.until < now) && item.owner !== owner) return 'held' as const;
    const before = item && stored(item);
    this.items.set(id, { ...item, owner, until, expiresAt });
    return before;
  }

  async lease(id: string): Promise<Lease | undefined> {
    this.#enter('lease');
    const item = this.items.get(id);
    return item && { ...(item.owner ? { owner: item.owner } : {}), ...(item.until !== undefined ? { until: item.until } : {}) };
  }

  async save(id: string, owner: string, done: string, expiresAt: number, release: boolean) {
    this.#enter(release ? 'release' : 'flush');
    const item = this.items.get(id);
    if (item?.owner !== owner) return false;
    const next: Item = { ...item, done, expiresAt };
    if (release) {
      delete next.owner;
      delete next.until;
    }
    this.items.set(id, next);
    return true;
  }

  async getItems(ids: readonly string[]) {
    this.#enter('getItems');
    const found = new Map<string, StoredItem>();
    for (const id of ids) {
      const item = this.items.get(id);
      if (item) found.set(id, stored(item));
    }
    return found;
  }

  async putItems(ids: readonly string[], expiresAt: number) {
    this.#enter('putItems');
    for (const id of ids) this.items.set(id, { expiresAt });
  }
}

const stored = (item: Item): StoredItem => ({
  ...(item.done !== undefined ? { done: item.done } : {}),
  ...(item.expiresAt !== undefined ? { expiresAt: item.expiresAt } : {}),
});
