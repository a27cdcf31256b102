// The event source mapping's tuning: one definition, validated the same way for
// `cdk deploy` and for the local emulator, read from CDK context by both.

import { compileFilters, type RecordFilter } from './event-filter.js';
import { FilterPatternError, MappingSettingsError } from './errors.js';

export type StartingPosition = 'LATEST' | 'TRIM_HORIZON' | 'AT_TIMESTAMP';

/**
 * How Lambda scales the mapping's event pollers. `provisioned`: dedicated pollers between a
 * minimum and a maximum, billed while they run; the only mode in which Lambda honours partial
 * batch responses, retries, bisection, record age, metrics and logging for Kafka. `on-demand`:
 * Lambda scales pollers itself at no extra charge, and commits whole batches.
 */
export type PollerMode = 'provisioned' | 'on-demand';

export interface MappingSettings {
  /** One mapping per topic. */
  readonly topics: readonly string[];
  /** The mapping's consumer group (1–200 characters of `[a-zA-Z0-9-/*:_+=.@-]`). @default Lambda generates one */
  readonly consumerGroupId?: string;
  /** Records per invocation, 1–10,000. @default 100 */
  readonly batchSize?: number;
  /** How long the mapping gathers records before invoking, whole seconds 0–300. @default unset: Lambda's Kafka default, 0.5 s */
  readonly maxBatchingWindowSeconds?: number;
  /** @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** Epoch seconds; only with AT_TIMESTAMP, and required by it. */
  readonly startingPositionTimestamp?: number;
  /** @default 'provisioned' */
  readonly pollerMode?: PollerMode;
  /** Provisioned mode: pollers at least (1–200). @default 1 */
  readonly minPollers?: number;
  /** Provisioned mode: pollers at most (1–2,000, ≥ minPollers). @default 10 */
  readonly maxPollers?: number;
  /**
   * Provisioned mode: mappings with the same name (in one VPC) share pollers, to cut cost; 1–128
   * letters, digits, "-" and "_". A group holds at most 100 mappings whose maxPollers add up to at
   * most 2,000. @default pollers of its own
   */
  readonly pollerGroupName?: string;
  /** Retries of a failed invocation, -1 (infinite) or 0–10,000. Provisioned mode only. @default -1, capped at 10 by Lambda with an on-failure destination */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure destination without being sent to the function, -1 or 60–604,800 s. Provisioned mode only. @default -1 (no limit) */
  readonly maxRecordAgeSeconds?: number;
  /** Split a failing batch in two and retry the halves. Provisioned mode only. @default false */
  readonly bisectBatchOnError?: boolean;
  /** Let the function report partial failures. Provisioned mode only. @default true in provisioned mode, false on demand */
  readonly reportBatchItemFailures?: boolean;
  /**
   * Event filters (`lambda.FilterCriteria.filter({ value: … })`), ORed: records that match none
   * are committed without invoking the function. Kafka mappings filter on `value` only. @default every record is sent
   */
  readonly filters?: readonly RecordFilter[];
  /** The mapping's own metrics (`EventCount`, `ErrorCount`, `KafkaMetrics`). Provisioned mode only. @default none */
  readonly metrics?: readonly string[];
  /** The pollers' system log level (`INFO`, `DEBUG`, `WARN`). Provisioned mode only. @default no logs */
  readonly logLevel?: string;
  /** The kind of schema registry the mapping validates and decodes records with. Provisioned mode only. @default none */
  readonly schemaRegistry?: 'glue' | 'confluent';
}

export const MAPPING_DEFAULTS = {
  batchSize: 100,
  maxBatchingWindowSeconds: 0.5,
  startingPosition: 'TRIM_HORIZON',
  pollerMode: 'provisioned',
  // One Kafka poller handles up to 5 MB/s or 5 concurrent invocations (Lambda guide, "Apache
  // Kafka event poller scaling modes"); 1–10 keeps the always-on cost at one poller.
  minPollers: 1,
  maxPollers: 10,
} as const;

/** Lambda's cap on retries of a mapping with infinite retries and an on-failure destination. */
export const MAX_RETRIES_WITH_DESTINATION = 10;

/**
 * The most retries a Kafka mapping takes (MaximumRetryAttempts 0–10,000). With the outage breaker
 * on, a provisioned mapping whose `retryAttempts` is not given gets this rather than -1, which
 * Lambda caps at {@link MAX_RETRIES_WITH_DESTINATION} when the mapping has an on-failure
 * destination: whether an outage's redeliveries count as retries is not documented, and ten of
 * them in a long outage would send the batch to the destination, skipped.
 */
export const MAX_RETRY_ATTEMPTS = 10_000;

/** How a mapping's `DestinationConfig.OnFailure` names a topic of its own cluster (`sources.KafkaDlq`). */
export const KAFKA_DESTINATION_PREFIX = 'kafka://';

/**
 * The topic a `kafka://` on-failure destination names, or undefined for another kind of
 * destination. Lambda guide, "Using a Kafka topic as an on-failure destination": Lambda blocks a
 * destination topic that is also a source topic (recursion prevention); so does this.
 */
export function kafkaFailureTopic(destination: string, sourceTopics: readonly string[]): string | undefined {
  if (!destination.startsWith(KAFKA_DESTINATION_PREFIX)) return undefined;
  const topic = destination.slice(KAFKA_DESTINATION_PREFIX.length);
  if (sourceTopics.includes(topic)) {
    throw new MappingSettingsError(
      `onFailure is ${destination}, one of the topics this consumer reads; Lambda refuses a failure topic that is a source topic: name another topic of the same cluster.`,
    );
  }
  return topic;
}

/** The settings Lambda applies to Kafka mappings only in provisioned mode, and what they are called here. */
// The observability settings: aws-cdk-lib's aws-lambda-event-sources README, "Kafka Observability
// Features". The schema registry: Lambda guide, "Using schema registries with Kafka event sources".
const PROVISIONED_ONLY = [
  'reportBatchItemFailures',
  'retryAttempts',
  'maxRecordAgeSeconds',
  'bisectBatchOnError',
  'minPollers',
  'maxPollers',
  'pollerGroupName',
  'metrics',
  'logLevel',
  'schemaRegistry',
] as const;

/** The settings with the mode's defaults filled in: what Lambda will do. */
export interface EffectiveMappingSettings extends MappingSettings {
  readonly batchSize: number;
  readonly startingPosition: StartingPosition;
  readonly pollerMode: PollerMode;
  readonly reportBatchItemFailures: boolean;
  /** -1 (infinite) when not set. */
  readonly retryAttempts: number;
  /** -1 (no limit) when not set. */
  readonly maxRecordAgeSeconds: number;
  readonly bisectBatchOnError: boolean;
}

/** Validates the settings, then fills in what Lambda does where they are silent. */
export function effectiveMappingSettings(s: MappingSettings, names?: SettingNames): EffectiveMappingSettings {
  validateMappingSettings(s, names);
  const pollerMode = s.pollerMode ?? MAPPING_DEFAULTS.pollerMode;
  const provisioned = pollerMode === 'provisioned';
  return {
    ...s,
    batchSize: s.batchSize ?? MAPPING_DEFAULTS.batchSize,
    startingPosition: s.startingPosition ?? MAPPING_DEFAULTS.startingPosition,
    pollerMode,
    ...(provisioned
      ? {
          minPollers: s.minPollers ?? MAPPING_DEFAULTS.minPollers,
          maxPollers: s.maxPollers ?? Math.max(MAPPING_DEFAULTS.maxPollers, s.minPollers ?? 0),
        }
      : {}),
    reportBatchItemFailures: s.reportBatchItemFailures ?? provisioned,
    retryAttempts: s.retryAttempts ?? -1,
    maxRecordAgeSeconds: s.maxRecordAgeSeconds ?? -1,
    bisectBatchOnError: s.bisectBatchOnError ?? false,
  };
}

const CONSUMER_GROUP = /^[a-zA-Z0-9\-/*:_+=.@-]{1,200}$/;
/**
 * A topic name Lambda takes: the Lambda API's and CloudFormation's `Topics` pattern
 * `[^.]([a-zA-Z0-9\-_.]+)` (so at least two characters, the first not a dot), within Kafka's
 * characters, at most 249 long.
 */
const TOPIC = /^[a-zA-Z0-9_-][a-zA-Z0-9._-]*$/;
const MAX_TOPIC_LENGTH = 249;

/** Whether Lambda takes `topic` as a topic name of at least `minLength` characters. */
export function isLambdaTopicName(topic: string, minLength = 2): boolean {
  return TOPIC.test(topic) && topic.length >= minLength && topic.length <= MAX_TOPIC_LENGTH;
}

/** What a topic name may be, for error messages. */
export function topicNameRule(minLength = 2): string {
  return `${minLength}–${MAX_TOPIC_LENGTH} characters of letters, digits, ".", "_" and "-", not starting with "."`;
}

/** Lambda API `ProvisionedPollerConfig.PollerGroupName`: pattern `[a-zA-Z0-9-_]*`, at most 128 characters. */
const POLLER_GROUP = /^[a-zA-Z0-9_-]{1,128}$/;
/**
 * Lambda guide, "Apache Kafka event poller scaling modes" (and the API's PollerGroupName): a
 * poller group holds up to 100 mappings, and their MaximumPollers add up to at most 2,000.
 */
const POLLER_GROUP_LIMITS = { mappings: 100, maxPollers: 2_000 } as const;

/** How a setting is called where it was given (a construct prop, a context key); messages use it. */
export type SettingNames = (key: keyof MappingSettings) => string;

function range(name: string, value: number | undefined, min: number, max: number, extra?: number) {
  if (value === undefined) return;
  const ok = Number.isFinite(value) && ((value >= min && value <= max) || value === extra);
  if (!ok) {
    const allowed = extra === undefined ? `${min}–${max}` : `${extra} or ${min}–${max}`;
    throw new MappingSettingsError(`${name} is ${value}; it must be ${allowed}.`);
  }
}

/** Throws {@link MappingSettingsError} for the first setting that Lambda would refuse. */
export function validateMappingSettings(s: MappingSettings, names: SettingNames = (key) => key): void {
  if (s.topics.length === 0) throw new MappingSettingsError('topics is empty; name at least one topic to consume.');
  for (const topic of s.topics) {
    if (!isLambdaTopicName(topic)) {
      throw new MappingSettingsError(
        `topic "${topic}" is not a topic name Lambda takes: give ${topicNameRule()} (CloudFormation's Topics pattern ^[^.]([a-zA-Z0-9\\-_.]+)).`,
      );
    }
  }
  if (s.consumerGroupId !== undefined && !CONSUMER_GROUP.test(s.consumerGroupId)) {
    throw new MappingSettingsError(
      `consumerGroupId "${s.consumerGroupId}" must be 1–200 characters of letters, digits and - / * : _ + = . @.`,
    );
  }
  if (s.batchSize !== undefined && !Number.isInteger(s.batchSize))
    throw new MappingSettingsError(`batchSize is ${s.batchSize}; it must be a whole number 1–10000.`);
  range('batchSize', s.batchSize, 1, 10_000);
  if (s.maxBatchingWindowSeconds !== undefined && !Number.isInteger(s.maxBatchingWindowSeconds)) {
    throw new MappingSettingsError(
      `${names('maxBatchingWindowSeconds')} is ${s.maxBatchingWindowSeconds} s; CloudFormation takes whole seconds 0–300 (leave it unset for Lambda's 0.5 s default).`,
    );
  }
  range(names('maxBatchingWindowSeconds'), s.maxBatchingWindowSeconds, 0, 300);
  if (s.startingPosition !== undefined && !['LATEST', 'TRIM_HORIZON', 'AT_TIMESTAMP'].includes(s.startingPosition)) {
    throw new MappingSettingsError(`startingPosition is "${s.startingPosition}"; it must be LATEST, TRIM_HORIZON or AT_TIMESTAMP.`);
  }
  if ((s.startingPosition === 'AT_TIMESTAMP') !== (s.startingPositionTimestamp !== undefined)) {
    throw new MappingSettingsError('startingPositionTimestamp goes with startingPosition AT_TIMESTAMP, and AT_TIMESTAMP needs it.');
  }
  if (s.pollerMode !== undefined && s.pollerMode !== 'provisioned' && s.pollerMode !== 'on-demand') {
    throw new MappingSettingsError(`${names('pollerMode')} is "${s.pollerMode}"; it must be provisioned or on-demand.`);
  }
  for (const key of ['minPollers', 'maxPollers', 'retryAttempts'] as const) {
    if (s[key] !== undefined && !Number.isInteger(s[key]))
      throw new MappingSettingsError(`${names(key)} is ${s[key]}; it must be a whole number.`);
  }
  range(names('minPollers'), s.minPollers, 1, 200);
  range(names('maxPollers'), s.maxPollers, 1, 2_000);
  if (s.minPollers !== undefined && s.maxPollers !== undefined && s.minPollers > s.maxPollers) {
    throw new MappingSettingsError(`${names('minPollers')} (${s.minPollers}) is greater than ${names('maxPollers')} (${s.maxPollers}).`);
  }
  if (s.pollerGroupName !== undefined && !POLLER_GROUP.test(s.pollerGroupName)) {
    throw new MappingSettingsError(
      `${names('pollerGroupName')} is "${s.pollerGroupName}"; it must be 1–128 characters of letters, digits, "-" and "_" (Lambda's PollerGroupName pattern [a-zA-Z0-9-_]*).`,
    );
  }
  range(names('retryAttempts'), s.retryAttempts, 0, 10_000, -1);
  if (s.filters !== undefined && s.filters.length === 0) {
    // CloudFormation's FilterCriteria.Filters takes at least one filter; an empty list is refused
    // rather than read as "no filters", since a list computed to nothing may have meant to filter.
    throw new MappingSettingsError(
      `${names('filters')} is []; CloudFormation takes at least one filter: give one, or leave ${names('filters')} out to send every record to the function.`,
    );
  }
  if (s.filters !== undefined) {
    try {
      compileFilters(s.filters);
    } catch (e) {
      if (!(e instanceof FilterPatternError)) throw e;
      throw new MappingSettingsError(e.message, { cause: e });
    }
  }
  const METRICS = ['EventCount', 'ErrorCount', 'KafkaMetrics'];
  if (s.metrics !== undefined && (s.metrics.length === 0 || s.metrics.some((m) => !METRICS.includes(m)))) {
    throw new MappingSettingsError(
      `${names('metrics')} is [${s.metrics.join(', ')}]; give one or more of ${METRICS.join(', ')} (lambda.MetricType), or leave it out.`,
    );
  }
  if (s.logLevel !== undefined && !['INFO', 'DEBUG', 'WARN'].includes(s.logLevel)) {
    throw new MappingSettingsError(
      `${names('logLevel')} is "${s.logLevel}"; it must be INFO, DEBUG or WARN (lambda.EventSourceMappingLogLevel).`,
    );
  }
  range(names('maxRecordAgeSeconds'), s.maxRecordAgeSeconds, 60, 604_800, -1);
  if (s.pollerMode === 'on-demand') {
    // Lambda's Kafka mappings honour these only in provisioned mode (aws-cdk-lib's
    // aws-lambda-event-sources README, Kafka section); on demand they would be refused or ignored.
    const given = PROVISIONED_ONLY.filter((k) => s[k] !== undefined && s[k] !== false).map(names);
    if (given.length > 0) {
      throw new MappingSettingsError(
        `${given.join(', ')} ${given.length > 1 ? 'need' : 'needs'} provisioned mode, but ${names('pollerMode')} is on-demand: remove ${given.length > 1 ? 'them' : 'it'}, or use ${names('pollerMode')} provisioned.`,
      );
    }
  }
  if (s.pollerGroupName !== undefined) validatePollerGroup(s, names);
}

/** The group's limits, as far as this one consumer's mappings (one per topic) fill it. */
function validatePollerGroup(s: MappingSettings, names: SettingNames): void {
  const group = `${names('pollerGroupName')} "${s.pollerGroupName}"`;
  const others = 'mappings of other consumers in the same group count too';
  if (s.topics.length > POLLER_GROUP_LIMITS.mappings) {
    throw new MappingSettingsError(
      `${group} would hold ${s.topics.length} mappings (one per topic); a poller group holds at most ${POLLER_GROUP_LIMITS.mappings} (${others}): split the topics across consumers with different groups.`,
    );
  }
  const maxPollers = s.maxPollers ?? Math.max(MAPPING_DEFAULTS.maxPollers, s.minPollers ?? 0);
  const total = s.topics.length * maxPollers;
  if (total > POLLER_GROUP_LIMITS.maxPollers) {
    throw new MappingSettingsError(
      `${group}: ${s.topics.length} mappings (one per topic) × ${names('maxPollers')} ${maxPollers} = ${total} pollers; a poller group's mappings may have at most ${POLLER_GROUP_LIMITS.maxPollers} together (${others}): lower ${names('maxPollers')} to at most ${Math.floor(POLLER_GROUP_LIMITS.maxPollers / s.topics.length)}, or split the topics across groups.`,
    );
  }
}
