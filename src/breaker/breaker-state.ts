// The outage breaker's state machine, pure: the state kept in the mapping's BREAKER_TAG, its
// encoding, the transitions the consumer (outage seen) and the resumer (scheduled tick) make, and
// the cool-downs. Everything that talks to Lambda is in mapping-control.ts.
import { ConfigurationError } from '../contract/errors.js';
import { DEFAULT_BREAKER_COOL_DOWN_SECONDS, DEFAULT_BREAKER_MAX_COOL_DOWN_SECONDS, ENV } from '../contract/index.js';

/**
 * `closed`: records flow. `open`: the mapping is disabled until `until`. `half-open`: re-enabled
 * on probation after a cool-down. `forced-open`: disabled by a person's force command, never
 * resumed by a tick.
 */
export type BreakerPosition = 'closed' | 'open' | 'half-open' | 'forced-open';

export interface BreakerState {
  readonly position: BreakerPosition;
  /** Openings in a row without the breaker closing in between: the cool-down's exponent. */
  readonly opens: number;
  /** Epoch ms the state was entered. */
  readonly since: number;
  /** Epoch ms the cool-down ends (`open` only). */
  readonly until?: number;
}

/** An absent tag: records flow. */
export const CLOSED: BreakerState = { position: 'closed', opens: 0, since: 0 };

const POSITIONS: ReadonlySet<string> = new Set<BreakerPosition>(['closed', 'open', 'half-open', 'forced-open']);

/** The tag's value: `state=open opens=2 since=<ms> until=<ms>` (only characters tag values allow). */
export function encodeBreakerState(state: BreakerState): string {
  const until = state.position === 'open' && state.until !== undefined ? ` until=${state.until}` : '';
  return `state=${state.position} opens=${state.opens} since=${state.since}${until}`;
}

/** A decoded tag: its state, or closed with the reason when the value could not be read. */
export interface DecodedBreakerState {
  readonly state: BreakerState;
  /** Why the value was not understood (it is then taken as closed); undefined when it was. */
  readonly unreadable?: string;
}

/** Reads the tag's value; never throws: an absent tag is closed, an unreadable one closed with a reason. */
export function decodeBreakerState(value: unknown): DecodedBreakerState {
  if (value === undefined || value === null) return { state: CLOSED };
  if (typeof value !== 'string') return { state: CLOSED, unreadable: `a ${typeof value}, not a string` };
  const fields = new Map<string, string>();
  for (const part of value.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const position = fields.get('state');
  if (position === undefined || !POSITIONS.has(position)) {
    return { state: CLOSED, unreadable: `no state=closed|open|half-open|forced-open field (${value.length} characters)` };
  }
  const opens = wholeNumber(fields.get('opens'));
  const since = wholeNumber(fields.get('since'));
  if (opens === undefined || since === undefined) return { state: CLOSED, unreadable: 'opens or since is not a whole number ≥ 0' };
  if (position !== 'open') return { state: { position: position as BreakerPosition, opens, since } };
  const until = wholeNumber(fields.get('until'));
  if (until === undefined) return { state: CLOSED, unreadable: 'an open state without a whole-number until' };
  return { state: { position, opens, since, until } };
}

function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,16}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The cool-downs, whole seconds, from the environment the construct sets. */
export interface BreakerSettings {
  readonly coolDownSeconds: number;
  readonly maxCoolDownSeconds: number;
}

/**
 * The breaker's settings when `BREAKER_COOL_DOWN_SECONDS` is set (the construct's `breaker` on),
 * else undefined (off). A value that is not a whole number of seconds is a ConfigurationError.
 */
export function breakerSettingsFrom(env: NodeJS.ProcessEnv): BreakerSettings | undefined {
  const base = env[ENV.breakerCoolDownSeconds];
  if (base === undefined || base === '') return undefined;
  const coolDownSeconds = secondsFrom(base, ENV.breakerCoolDownSeconds);
  const max = env[ENV.breakerMaxCoolDownSeconds];
  const maxCoolDownSeconds =
    max === undefined || max === ''
      ? Math.max(coolDownSeconds, DEFAULT_BREAKER_MAX_COOL_DOWN_SECONDS)
      : secondsFrom(max, ENV.breakerMaxCoolDownSeconds);
  if (maxCoolDownSeconds < coolDownSeconds) {
    throw new ConfigurationError(
      `${ENV.breakerMaxCoolDownSeconds} (${maxCoolDownSeconds}) is below ${ENV.breakerCoolDownSeconds} (${coolDownSeconds}); the construct's breaker.maxCoolDown must be at least its coolDown.`,
    );
  }
  return { coolDownSeconds, maxCoolDownSeconds };
}

function secondsFrom(text: string, name: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ConfigurationError(
      `${name} is "${text.slice(0, 40)}"; it must be a whole number of seconds ≥ 1 (the construct sets it from breaker.coolDown / breaker.maxCoolDown, default ${DEFAULT_BREAKER_COOL_DOWN_SECONDS} and ${DEFAULT_BREAKER_MAX_COOL_DOWN_SECONDS}).`,
    );
  }
  return n;
}

/** The cool-down after the `opens`-th opening, before jitter: base × 2^(opens-1), capped. */
export function baseCoolDownSeconds(opens: number, settings: BreakerSettings): number {
  return Math.min(settings.maxCoolDownSeconds, settings.coolDownSeconds * 2 ** (Math.max(1, opens) - 1));
}

/**
 * The cool-down after the `opens`-th opening, ms: the base one times a uniform draw in [0.8, 1.2),
 * so that mappings opened by the same outage do not all come back in the same minute.
 */
export function coolDownMs(opens: number, settings: BreakerSettings, random: () => number): number {
  return Math.round(baseCoolDownSeconds(opens, settings) * 1000 * (0.8 + 0.4 * random()));
}

/** A transition: the state to write, and the log line's name for it. */
export interface Transition {
  readonly next: BreakerState;
  readonly event: 'breaker opened' | 'breaker half-open' | 'breaker closed' | 'breaker forced open' | 'breaker forced closed';
}

/**
 * The consumer saw an outage. Closed or half-open → open, one more opening, a longer cool-down.
 * Already open (or forced open): undefined, nothing new to write.
 */
export function onOutage(current: BreakerState, now: number, settings: BreakerSettings, random: () => number): Transition | undefined {
  if (current.position === 'open' || current.position === 'forced-open') return undefined;
  const opens = current.position === 'half-open' ? current.opens + 1 : 1;
  return { next: { position: 'open', opens, since: now, until: now + coolDownMs(opens, settings, random) }, event: 'breaker opened' };
}

/** What a resumer tick does to one mapping. */
export type TickDecision =
  | { readonly action: 'resume'; readonly transition: Transition }
  | { readonly action: 'close'; readonly transition: Transition }
  /** The mapping is disabled but the breaker did not do it: a person did; leave it alone. */
  | { readonly action: 'leave-alone' }
  | { readonly action: 'wait' };

/**
 * A resumer tick. `paused`: the mapping is Disabled or Disabling. Open and cooled down →
 * re-enable, half-open. Half-open for as long as its last (unjittered) cool-down without a new
 * opening → closed. A mapping paused while the breaker is closed or half-open was paused by
 * someone else: left alone. Forced open: only a force command changes it.
 */
export function onTick(current: BreakerState, paused: boolean, now: number, settings: BreakerSettings): TickDecision {
  switch (current.position) {
    case 'open':
      if (now < (current.until ?? 0)) return { action: 'wait' };
      return {
        action: 'resume',
        transition: { next: { position: 'half-open', opens: current.opens, since: now }, event: 'breaker half-open' },
      };
    case 'half-open':
      if (paused) return { action: 'leave-alone' };
      if (now < current.since + baseCoolDownSeconds(current.opens, settings) * 1000) return { action: 'wait' };
      return { action: 'close', transition: { next: { position: 'closed', opens: 0, since: now }, event: 'breaker closed' } };
    case 'closed':
      return paused ? { action: 'leave-alone' } : { action: 'wait' };
    case 'forced-open':
      return { action: 'wait' };
  }
}

/** A person's force command: open (disabled, never resumed by a tick) or closed (enabled). */
export function onForce(current: BreakerState, command: 'open' | 'close', now: number): Transition {
  return command === 'open'
    ? { next: { position: 'forced-open', opens: current.opens, since: now }, event: 'breaker forced open' }
    : { next: { position: 'closed', opens: 0, since: now }, event: 'breaker forced closed' };
}
