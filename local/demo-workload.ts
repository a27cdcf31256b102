/** The demo's records: mostly good orders, with failures of every kind mixed in. */
export type DemoKind = 'ok' | 'transient-failure' | 'permanent-failure' | 'not-json' | 'tombstone';

/** Which kind record `i` is: 2% permanent, 3% transient, 1% not JSON, 1% tombstones. */
export function demoKind(i: number): DemoKind {
  const slot = i % 100;
  if (slot < 2) return 'permanent-failure';
  if (slot < 5) return 'transient-failure';
  if (slot < 6) return 'not-json';
  if (slot < 7) return 'tombstone';
  return 'ok';
}

export function demoRecord(i: number): { key: string; value: string | null } {
  const kind = demoKind(i);
  const key = `order-${i % 1_000}`;
  if (kind === 'tombstone') return { key, value: null };
  if (kind === 'not-json') return { key, value: `order ${i} <not json>` };
  const order = { id: `o-${i}`, amount: (i % 500) + 1, currency: 'EUR', items: [{ sku: `sku-${i % 97}`, quantity: 1 + (i % 3) }] };
  return { key, value: JSON.stringify(kind === 'ok' ? order : { ...order, simulate: kind }) };
}
