// The outage breaker's props: its cool-downs, whole seconds, bounded by Kafka's offsets retention and maxRecordAge.
import { Duration } from 'aws-cdk-lib';
import { ConstructPropsError } from './errors.js';
import type { KafkaConsumerProps } from './kafka-consumer-props.js';
import { DEFAULT_BREAKER_COOL_DOWN_SECONDS, DEFAULT_BREAKER_MAX_COOL_DOWN_SECONDS } from '../contract/index.js';

/** The breaker's first and longest cool-downs, defaults filled in. */
export interface CheckedBreaker {
  readonly coolDown: Duration;
  readonly maxCoolDown: Duration;
}

/**
 * The longest cool-down synth takes. A paused mapping's consumer group has no members, and Kafka
 * deletes the committed offsets of a group that stayed empty for `offsets.retention.minutes`
 * (7 days by default since Kafka 2.0, 1 day before, and clusters may set less): every half-open
 * probe rejoins the group, so probes must come well within a day. Longer pauses are what a person
 * disabling the mapping is for.
 */
export const MAX_BREAKER_COOL_DOWN = Duration.hours(12);

/**
 * The breaker's cool-downs: whole seconds (the runtime and the resumer read them as such), at least
 * a second, the first no longer than the longest, the longest at most {@link MAX_BREAKER_COOL_DOWN}
 * and shorter than `maxRecordAge` (Lambda skips records older than that, and a paused mapping's
 * oldest record ages by the whole pause).
 * @returns the cool-downs, or undefined when `breaker` is false
 */
export function validateBreaker(props: KafkaConsumerProps): CheckedBreaker | undefined {
  if (props.breaker === false) return undefined;
  const given = typeof props.breaker === 'object' ? props.breaker : {};
  const coolDown = given.coolDown ?? Duration.seconds(DEFAULT_BREAKER_COOL_DOWN_SECONDS);
  const maxCoolDown = given.maxCoolDown ?? Duration.seconds(DEFAULT_BREAKER_MAX_COOL_DOWN_SECONDS);
  for (const [prop, value] of [
    ['breaker.coolDown', coolDown],
    ['breaker.maxCoolDown', maxCoolDown],
  ] as const) {
    const seconds = value.toSeconds({ integral: false });
    if (!Number.isInteger(seconds) || seconds < 1) {
      throw new ConstructPropsError(
        prop,
        `${prop} is ${seconds} s; the breaker counts its cool-downs in whole seconds: give at least Duration.seconds(1), in whole seconds.`,
      );
    }
  }
  if (coolDown.toSeconds() > maxCoolDown.toSeconds()) {
    throw new ConstructPropsError(
      'breaker.coolDown',
      `breaker.coolDown (${coolDown.toSeconds()} s) is longer than breaker.maxCoolDown (${maxCoolDown.toSeconds()} s): the cool-down doubles from the first up to the longest. Give a coolDown of at most ${maxCoolDown.toSeconds()} s, or a longer maxCoolDown.`,
    );
  }
  if (maxCoolDown.toSeconds() > MAX_BREAKER_COOL_DOWN.toSeconds()) {
    throw new ConstructPropsError(
      'breaker.maxCoolDown',
      `breaker.maxCoolDown is ${maxCoolDown.toSeconds()} s; it may be at most ${MAX_BREAKER_COOL_DOWN.toSeconds()} s (12 hours): a paused mapping's consumer group has no members, and Kafka deletes an empty group's committed offsets after offsets.retention.minutes, so the resumer must probe well within that. Give a shorter maxCoolDown (to pause for longer, disable the mapping yourself).`,
    );
  }
  if (props.maxRecordAge && maxCoolDown.toSeconds() >= props.maxRecordAge.toSeconds()) {
    throw new ConstructPropsError(
      'breaker.maxCoolDown',
      `breaker.maxCoolDown (${maxCoolDown.toSeconds()} s) is not shorter than maxRecordAge (${props.maxRecordAge.toSeconds()} s): a mapping paused that long resumes with records older than maxRecordAge, which Lambda skips to the on-failure destination without processing them. Give a maxCoolDown well under maxRecordAge, or a longer maxRecordAge.`,
    );
  }
  return { coolDown, maxCoolDown };
}
