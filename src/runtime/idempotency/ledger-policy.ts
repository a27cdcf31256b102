// The ledger's decisions, as pure functions of what the table said and the time (`now`, epoch
// ms, given by the caller): whether a lease is someone else's, how long to wait for it, whether
// an item has expired, when to flush done offsets.

/** A topic-partition's lease as the table holds it. */
export interface Lease {
  /** The awsRequestId of the invocation holding it. */
  readonly owner?: string;
  /** Epoch ms: the holder's Lambda deadline, after which the lease is free whatever happened. */
  readonly until?: number;
}

/** First wait for a lease held by another invocation; each later wait doubles it, up to {@link MAX_LEASE_POLL_MS}. */
export const FIRST_LEASE_POLL_MS = 50;
export const MAX_LEASE_POLL_MS = 1_000;

/** Whether another invocation that is still within its deadline holds the lease. */
export function heldByAnother(lease: Lease | undefined, me: string, now: number): boolean {
  return lease?.until !== undefined && lease.until >= now && lease.owner !== me;
}

/**
 * How long to wait before looking at a held lease again (the `attempt`-th wait, from 0), or
 * undefined to give up: the wait would end past `deadline`, when this invocation may no longer
 * start a record. Never waits past the holder's deadline, when the lease is free in any case.
 */
export function leaseWait(heldUntil: number, now: number, deadline: number, attempt: number): number | undefined {
  const backoff = Math.min(MAX_LEASE_POLL_MS, FIRST_LEASE_POLL_MS * 2 ** attempt);
  const wait = Math.min(backoff, Math.max(0, heldUntil - now) + 1);
  return now + wait < deadline ? wait : undefined;
}

/** Whether an item's expiry (epoch seconds, as TTL reads it) has passed: TTL deletes late, so the ledger checks. */
export function expired(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt * 1_000 <= now;
}

/** The expiry to write now: epoch seconds, `expirySeconds` from now. */
export function expiryFrom(now: number, expirySeconds: number): number {
  return Math.ceil(now / 1_000) + expirySeconds;
}

/**
 * When the next background flush of a partition's done offsets may start: at most one every
 * `intervalMs`, so that fast records share a write (calls per invocation stay few) while a crash
 * re-runs at most the records done in the last interval and one round trip.
 */
export function flushDelay(lastFlushStartedAt: number, now: number, intervalMs: number): number {
  return Math.max(0, lastFlushStartedAt + intervalMs - now);
}
