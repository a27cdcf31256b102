import { describe, expect, it } from 'vitest';
import {
  FIRST_LEASE_POLL_MS,
  MAX_LEASE_POLL_MS,
  expired,
  expiryFrom,
  flushDelay,
  heldByAnother,
  leaseWait,
} from '../../../../src/runtime/idempotency/ledger-policy.js';

describe('the ledger policy', () => {
  it('a lease is held by another only while its holder is within its deadline', () => {
    expect(heldByAnother(undefined, 'me', 1_000)).toBe(false);
    expect(heldByAnother({}, 'me', 1_000)).toBe(false); // let go
    expect(heldByAnother({ owner: 'other', until: 1_000 }, 'me', 1_000)).toBe(true);
    expect(heldByAnother({ owner: 'other', until: 999 }, 'me', 1_000)).toBe(false); // its holder is dead or done
    expect(heldByAnother({ owner: 'me', until: 5_000 }, 'me', 1_000)).toBe(false);
  });

  it("waits with a doubling backoff, never past the holder's deadline, and gives up when it would pass its own", () => {
    expect(leaseWait(100_000, 0, 100_000, 0)).toBe(FIRST_LEASE_POLL_MS);
    expect(leaseWait(100_000, 0, 100_000, 1)).toBe(2 * FIRST_LEASE_POLL_MS);
    expect(leaseWait(100_000, 0, 100_000, 30)).toBe(MAX_LEASE_POLL_MS);
    expect(leaseWait(10, 0, 100_000, 5)).toBe(11); // just past the holder's deadline
    expect(leaseWait(100_000, 0, FIRST_LEASE_POLL_MS, 0)).toBeUndefined();
    expect(leaseWait(100_000, 0, FIRST_LEASE_POLL_MS + 1, 0)).toBe(FIRST_LEASE_POLL_MS);
  });

  it('an item has expired once its expiry (epoch seconds) is not in the future; none never expires', () => {
    expect(expired(10, 9_999)).toBe(false);
    expect(expired(10, 10_000)).toBe(true);
    expect(expired(undefined, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(expiryFrom(10_001, 60)).toBe(71);
  });

  it('flushes at most once per interval', () => {
    expect(flushDelay(1_000, 1_000, 100)).toBe(100);
    expect(flushDelay(1_000, 1_060, 100)).toBe(40);
    expect(flushDelay(1_000, 5_000, 100)).toBe(0);
  });
});
