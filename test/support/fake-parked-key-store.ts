// An in-memory parked-key table with DynamoDB's conditional semantics (the DynamoDB store itself
// runs against the local dynalite in test/e2e/park-key.test.ts). `fail` makes the next calls of a
// kind throw, as an unreachable table does.
import type { Changed, ParkedKey, ParkedKeyStore } from '../../src/runtime/parking/parked-key-store.js';
import { parkedState } from '../../src/runtime/parking/park-decision.js';

type Call = 'read' | 'get' | 'park' | 'append' | 'markProduced' | 'release';

export class FakeParkedKeyStore implements ParkedKeyStore {
  readonly items = new Map<string, ParkedKey>();
  readonly calls: Call[] = [];
  readonly #failing = new Set<Call>();

  fail(...calls: Call[]): void {
    for (const c of calls) this.#failing.add(c);
  }

  heal(): void {
    this.#failing.clear();
  }

  #call(call: Call): void {
    this.calls.push(call);
    if (this.#failing.has(call)) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { name: 'Error' });
  }

  async read(ids: readonly string[]): Promise<Map<string, ParkedKey>> {
    this.#call('read');
    return new Map(ids.flatMap((id) => (this.items.has(id) ? [[id, this.items.get(id)!] as const] : [])));
  }

  async get(id: string): Promise<ParkedKey | undefined> {
    this.#call('get');
    return this.items.get(id);
  }

  async park(id: string, head: number, epoch: number, previous: ParkedKey | undefined): Promise<ParkedKey | Changed> {
    this.#call('park');
    const item = this.items.get(id);
    if (previous === undefined ? item !== undefined : item?.epoch !== previous.epoch) return { changed: item };
    const parked = parkedState(head, epoch, previous);
    this.items.set(id, parked);
    return parked;
  }

  async append(id: string, epoch: number, offset: number): Promise<ParkedKey | Changed> {
    this.#call('append');
    const item = this.items.get(id);
    if (item?.epoch !== epoch || !(item.last < offset)) return { changed: item };
    const parked = { ...item, last: offset, count: item.count + 1 };
    this.items.set(id, parked);
    return parked;
  }

  async markProduced(id: string, epoch: number, produced: number, copiesFrom: number): Promise<ParkedKey | Changed> {
    this.#call('markProduced');
    const item = this.items.get(id);
    if (item?.epoch !== epoch) return { changed: item };
    const marked = { ...item, produced, copiesFrom };
    this.items.set(id, marked);
    return marked;
  }

  async release(id: string, epoch: number, last: number): Promise<true | Changed> {
    this.#call('release');
    const item = this.items.get(id);
    if (item?.epoch !== epoch || item.last !== last || item.released) return { changed: item };
    const { produced: _p, copiesFrom: _c, ...rest } = item;
    this.items.set(id, { ...rest, released: true });
    return true;
  }
}
