import { describe, expect, it } from 'vitest';
import {
  CLOSED,
  breakerSettingsFrom,
  coolDownMs,
  decodeBreakerState,
  encodeBreakerState,
  onForce,
  onOutage,
  onTick,
  type BreakerState,
} from '../../../src/breaker/breaker-state.js';

// The breaker's state machine with a fake clock (plain epoch ms) and a fixed random draw.
const settings = { coolDownSeconds: 60, maxCoolDownSeconds: 900 };
const NOW = 1_700_000_000_000;
const middle = () => 0.5; // jitter factor 1.0

describe('cool-down', () => {
  it('doubles from the base per opening, capped at the max, times a draw in [0.8, 1.2)', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => coolDownMs(n, settings, middle))).toEqual([60e3, 120e3, 240e3, 480e3, 900e3, 900e3]);
    expect(coolDownMs(1, settings, () => 0)).toBe(48_000);
    expect(coolDownMs(1, settings, () => 0.999_999)).toBe(72_000);
    expect(coolDownMs(6, settings, () => 0)).toBe(720_000); // the cap, jittered too
  });
});

describe('consumer sees an outage', () => {
  it('closed → open, opens 1, until now + coolDown(1)', () => {
    expect(onOutage(CLOSED, NOW, settings, middle)).toEqual({
      event: 'breaker opened',
      next: { position: 'open', opens: 1, since: NOW, until: NOW + 60_000 },
    });
  });

  it('half-open(n) → open, opens n+1, a longer cool-down', () => {
    const halfOpen: BreakerState = { position: 'half-open', opens: 2, since: NOW - 5_000 };
    expect(onOutage(halfOpen, NOW, settings, middle)?.next).toEqual({ position: 'open', opens: 3, since: NOW, until: NOW + 240_000 });
  });

  it('open or forced open → nothing new to write', () => {
    expect(onOutage({ position: 'open', opens: 1, since: NOW, until: NOW + 1 }, NOW, settings, middle)).toBeUndefined();
    expect(onOutage({ position: 'forced-open', opens: 0, since: NOW }, NOW, settings, middle)).toBeUndefined();
  });
});

describe('resumer tick', () => {
  const open: BreakerState = { position: 'open', opens: 2, since: NOW - 120_000, until: NOW };

  it('open: waits until `until`, then resumes half-open with the same opens', () => {
    expect(onTick(open, true, NOW - 1, settings)).toEqual({ action: 'wait' });
    expect(onTick(open, true, NOW, settings)).toEqual({
      action: 'resume',
      transition: { event: 'breaker half-open', next: { position: 'half-open', opens: 2, since: NOW } },
    });
  });

  it('half-open: closes once it has run as long as its last cool-down (unjittered) without an outage', () => {
    const halfOpen: BreakerState = { position: 'half-open', opens: 2, since: NOW };
    expect(onTick(halfOpen, false, NOW + 119_999, settings)).toEqual({ action: 'wait' });
    expect(onTick(halfOpen, false, NOW + 120_000, settings)).toEqual({
      action: 'close',
      transition: { event: 'breaker closed', next: { position: 'closed', opens: 0, since: NOW + 120_000 } },
    });
  });

  it('a mapping disabled while the breaker is closed or half-open was disabled by a person: left alone', () => {
    expect(onTick(CLOSED, true, NOW, settings)).toEqual({ action: 'leave-alone' });
    expect(onTick({ position: 'half-open', opens: 1, since: 0 }, true, NOW, settings)).toEqual({ action: 'leave-alone' });
    expect(onTick(CLOSED, false, NOW, settings)).toEqual({ action: 'wait' });
  });

  it('forced open is never resumed by a tick', () => {
    expect(onTick({ position: 'forced-open', opens: 3, since: 0 }, true, NOW + 1e9, settings)).toEqual({ action: 'wait' });
  });
});

describe('force commands', () => {
  it('open → forced open (opens kept); close → closed, opens 0', () => {
    const halfOpen: BreakerState = { position: 'half-open', opens: 2, since: 0 };
    expect(onForce(halfOpen, 'open', NOW)).toEqual({
      event: 'breaker forced open',
      next: { position: 'forced-open', opens: 2, since: NOW },
    });
    expect(onForce(halfOpen, 'close', NOW)).toEqual({ event: 'breaker forced closed', next: { position: 'closed', opens: 0, since: NOW } });
  });
});

describe('the tag value', () => {
  it('encodes each state, until only when open', () => {
    expect(encodeBreakerState({ position: 'open', opens: 1, since: 5, until: 9 })).toBe('state=open opens=1 since=5 until=9');
    expect(encodeBreakerState({ position: 'half-open', opens: 1, since: 5, until: 9 })).toBe('state=half-open opens=1 since=5');
    expect(decodeBreakerState('state=forced-open opens=0 since=7')).toEqual({ state: { position: 'forced-open', opens: 0, since: 7 } });
  });

  it('reads an absent tag as closed, and garbage as closed with the reason, never throwing', () => {
    expect(decodeBreakerState(undefined)).toEqual({ state: CLOSED });
    for (const garbage of [
      '',
      'open',
      'state=ajar opens=1 since=1',
      'state=open opens=1 since=1',
      'state=closed opens=-1 since=1',
      'state=closed opens=1.5 since=1',
      'state=half-open opens=1 since=99999999999999999',
      42,
      {},
    ]) {
      const decoded = decodeBreakerState(garbage);
      expect(decoded.state).toBe(CLOSED);
      expect(decoded.unreadable).toMatch(/./);
    }
  });
});

describe('settings from the environment', () => {
  it('is off without BREAKER_COOL_DOWN_SECONDS; the max defaults to 900 s', () => {
    expect(breakerSettingsFrom({})).toBeUndefined();
    expect(breakerSettingsFrom({ BREAKER_COOL_DOWN_SECONDS: '2' })).toEqual({ coolDownSeconds: 2, maxCoolDownSeconds: 900 });
    expect(breakerSettingsFrom({ BREAKER_COOL_DOWN_SECONDS: '60', BREAKER_MAX_COOL_DOWN_SECONDS: '120' })).toEqual({
      coolDownSeconds: 60,
      maxCoolDownSeconds: 120,
    });
  });

  it('refuses values that are not whole seconds, or a max below the base, naming the variable', () => {
    expect(() => breakerSettingsFrom({ BREAKER_COOL_DOWN_SECONDS: '1.5' })).toThrow(
      /BREAKER_COOL_DOWN_SECONDS is "1.5"; it must be a whole number of seconds ≥ 1/,
    );
    expect(() => breakerSettingsFrom({ BREAKER_COOL_DOWN_SECONDS: '0' })).toThrow(/BREAKER_COOL_DOWN_SECONDS/);
    expect(() => breakerSettingsFrom({ BREAKER_COOL_DOWN_SECONDS: '60', BREAKER_MAX_COOL_DOWN_SECONDS: '30' })).toThrow(
      /BREAKER_MAX_COOL_DOWN_SECONDS \(30\) is below BREAKER_COOL_DOWN_SECONDS \(60\)/,
    );
  });
});
