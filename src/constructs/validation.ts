// Every synth-time check of the constructs' props, in one place. A wrong mapping setting throws
// MappingSettingsError (the rules the emulator shares are in src/mapping); any other wrong prop
// throws ConstructPropsError, naming the prop and how to fix it.
import { existsSync } from 'node:fs';
import type { Stack } from 'aws-cdk-lib';
import { Arn, ArnFormat, Duration, Token, TokenComparison } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { ConstructPropsError, MappingSettingsError } from './errors.js';
import type { KafkaCluster, KafkaConsumerProps } from './kafka-consumer-props.js';
import {
  KAFKA_DESTINATION_PREFIX,
  isLambdaTopicName,
  kafkaFailureTopic,
  topicNameRule,
  type PollerMode,
} from '../mapping/mapping-settings.js';
import {
  CONSUMER_ENV,
  DEFAULT_BREAKER_COOL_DOWN_SECONDS,
  DEFAULT_BREAKER_MAX_COOL_DOWN_SECONDS,
  DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_TIME_SAFETY_MARGIN_MS,
  ENV,
  KAFKA_COMPRESSION_CODECS,
  type ConsumerEnvName,
  type KafkaCompression,
} from '../contract/index.js';
import { RetryPolicy } from '../runtime/retry.js';

/** The props' values the checks were made on, defaults filled in. */
export interface CheckedConsumerProps {
  readonly timeout: Duration;
  readonly deadLetterRetention: Duration;
  readonly deadLetterObjectExpiration: Duration;
  readonly metricsNamespace: string;
  readonly serviceName: string;
  /** How long the ledger remembers a record's work is done. @default none: `idempotency` is off */
  readonly idempotencyExpiry?: Duration;
  /** The breaker's cool-downs, whole seconds. @default none: `breaker` is false */
  readonly breaker?: CheckedBreaker;
}

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

/** S3 expires objects at the first midnight UTC after their age is reached: up to a day late, never early. */
const OBJECT_EXPIRY_MARGIN = Duration.days(1);

/**
 * The checks of KafkaConsumer's props that need no synthesized mapping (the mapping settings
 * themselves are checked by `effectiveMappingSettings`, shared with the emulator).
 * @param id the construct's id, the default service name
 */
export function validateConsumerProps(props: KafkaConsumerProps, id: string): CheckedConsumerProps {
  validateCapabilities(props);
  validateEnvironment(props.environment);
  validateCluster(props.cluster);
  const timeout = validateFunction(props);
  const storage = validateDeadLetterStorage(props);
  const telemetry = validateTelemetryNames(props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE, props.serviceName ?? id);
  const idempotencyExpiry = validateIdempotencyExpiry(props, timeout);
  const breaker = validateBreaker(props);
  return { timeout, ...storage, ...telemetry, ...(idempotencyExpiry ? { idempotencyExpiry } : {}), ...(breaker ? { breaker } : {}) };
}

/** Rules between the mapping capabilities that the shared settings do not see. */
function validateCapabilities(props: KafkaConsumerProps): void {
  if (props.filterEncryption && !props.filters?.length) {
    throw new MappingSettingsError(
      'filterEncryption is set but filters is not: the key encrypts the filters, so give filters, or leave filterEncryption out.',
    );
  }
  const groupInConfig = props.provisionedPollerConfig?.pollerGroupName;
  if (props.pollerGroupName !== undefined && groupInConfig !== undefined && groupInConfig !== props.pollerGroupName) {
    throw new MappingSettingsError(
      `pollerGroupName is "${props.pollerGroupName}" and provisionedPollerConfig.pollerGroupName is "${groupInConfig}": give one of them.`,
    );
  }
}

/**
 * What each variable the runtime reads is for, and the prop that sets it (none: the construct
 * owns the resource). Typed by the runtime's list, so that a variable added there needs an entry here.
 */
const RESERVED_ENVIRONMENT: Record<ConsumerEnvName, { readonly for: string; readonly prop?: string }> = {
  [ENV.deadLetterQueueUrl]: { for: 'the dead-letter queue it creates, grants the function and alarms on' },
  [ENV.deadLetterBucket]: { for: 'the dead-letter bucket it creates and grants the function' },
  [ENV.consumerGroup]: { for: 'the consumer groups its mappings read with', prop: 'consumerGroupId' },
  [ENV.reportBatchItemFailures]: { for: 'whether its mappings honour partial batch responses', prop: 'reportBatchItemFailures' },
  [ENV.idempotencyTable]: { for: 'the idempotency ledger it creates or is given, and grants the function', prop: 'idempotency' },
  [ENV.idempotencyExpirySeconds]: {
    for: "the ledger's expiry it checks against maxRecordAge, the timeout and the dead-letter retention",
    prop: 'idempotency.expiry',
  },
  [ENV.breakerCoolDownSeconds]: { for: "the outage breaker's first cool-down, which its resumer waits out", prop: 'breaker.coolDown' },
  [ENV.breakerMaxCoolDownSeconds]: { for: "the outage breaker's longest cool-down", prop: 'breaker.maxCoolDown' },
  [ENV.failureMode]: { for: 'what its mappings are configured for (a blocking mode must never be skipped)', prop: 'failureMode' },
  [ENV.parkedKeysTable]: { for: 'the parked keys table it creates or uses, and grants the function and the replay', prop: 'failureMode' },
  [ENV.serviceName]: { for: 'the service its alarms and dashboard watch', prop: 'serviceName' },
  [ENV.metricsNamespace]: { for: 'the namespace its alarms and dashboard watch', prop: 'metricsNamespace' },
};

/** Refuses the variables the construct sets, naming the prop to use. */
function validateEnvironment(environment: Readonly<Record<string, string>> | undefined): void {
  for (const name of CONSUMER_ENV) {
    if (environment?.[name] === undefined) continue;
    const { for: purpose, prop } = RESERVED_ENVIRONMENT[name];
    throw new ConstructPropsError(
      `environment.${name}`,
      `environment.${name} is set, but KafkaConsumer sets ${name} itself, to ${purpose}: ${prop ? `give the prop ${prop} instead` : 'leave it out'}.`,
    );
  }
}

/** How the mapping authenticates and where it reaches the brokers from. */
function validateCluster(cluster: KafkaCluster): void {
  if (cluster.kind === 'self-managed' && cluster.authenticationMethod && !cluster.authSecret) {
    throw new ConstructPropsError(
      'cluster.authenticationMethod',
      `cluster.authenticationMethod is ${cluster.authenticationMethod} but cluster.authSecret is not set: give the secret with the credentials (or the client certificate for CLIENT_CERTIFICATE_TLS_AUTH), or leave authenticationMethod out.`,
    );
  }
  if (cluster.kind === 'self-managed' && !cluster.authSecret && !cluster.vpc) {
    throw new ConstructPropsError(
      'cluster.authSecret',
      'cluster: self-managed brokers reached over the internet need authSecret (SASL/SCRAM or BASIC_AUTH credentials, or a client certificate for CLIENT_CERTIFICATE_TLS_AUTH); give it, or the vpc they live in.',
    );
  }
  if (cluster.kind === 'msk' && cluster.vpc && !cluster.securityGroup) {
    // The mapping's network interfaces use the MSK cluster's own groups (Lambda guide,
    // "Creating a Lambda event source mapping for an Amazon MSK event source"): endpoints that
    // admit a group created here would turn the mapping's on-failure sends away.
    throw new ConstructPropsError(
      'cluster.securityGroup',
      "cluster.securityGroup is required with an MSK cluster's vpc: give the cluster's own security group (app: -c securityGroupIds=sg-…), which the mapping uses and the VPC endpoints must admit.",
    );
  }
}

/** The handler's file, and a timeout and memory Lambda takes behind a Kafka mapping. @returns the timeout */
function validateFunction(props: KafkaConsumerProps): Duration {
  if (!props.entry || !existsSync(props.entry)) {
    throw new ConstructPropsError(
      'entry',
      `entry is ${props.entry ? `"${props.entry}", which does not exist` : 'not set'}: give the path of your handler file (written with kafkaConsumer()), for example fileURLToPath(new URL('./handler.ts', import.meta.url)).`,
    );
  }
  const timeout = props.timeout ?? Duration.seconds(60);
  const retry = new RetryPolicy(props.recordRetry);
  const needed = retry.worstCaseDelayMs() + DEFAULT_TIME_SAFETY_MARGIN_MS + 1_000;
  // Lambda guide, "Configuring Amazon MSK event sources": Kafka mappings support functions
  // with a timeout of at most 14 minutes.
  if (timeout.toSeconds() > 14 * 60) {
    throw new ConstructPropsError(
      'timeout',
      `timeout is ${timeout.toSeconds()} s; a function behind a Kafka event source mapping may have at most 14 minutes (840 s).`,
    );
  }
  if (timeout.toMilliseconds() < needed) {
    throw new ConstructPropsError(
      'timeout',
      `timeout is ${timeout.toSeconds()} s; with recordRetry's backoff (up to ${retry.worstCaseDelayMs()} ms per record) and the ${DEFAULT_TIME_SAFETY_MARGIN_MS / 1_000} s safety margin it must be at least ${Math.ceil(needed / 1_000)} s.`,
    );
  }
  if (props.memorySize !== undefined && (props.memorySize < 128 || props.memorySize > 10_240)) {
    throw new ConstructPropsError('memorySize', `memorySize is ${props.memorySize}; it must be 128–10240 MB.`);
  }
  return timeout;
}

/**
 * The idempotency ledger's expiry: a record that comes back after its entry expired runs again,
 * so the entry must outlive every redelivery of the mapping: a record older than `maxRecordAge`
 * is not delivered, and a batch retried after a timeout comes back at least one timeout later.
 * (Its relation to the dead-letter retention is a warning, given by the construct.)
 * @returns the expiry, or undefined when `idempotency` is off
 */
function validateIdempotencyExpiry(props: KafkaConsumerProps, timeout: Duration): Duration | undefined {
  if (!props.idempotency) return undefined;
  const given = typeof props.idempotency === 'object' ? props.idempotency.expiry : undefined;
  const expiry = given ?? Duration.seconds(DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS);
  const seconds = expiry.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new ConstructPropsError(
      'idempotency.expiry',
      `idempotency.expiry is ${expiry.toHumanString()}; the ledger's expiry is whole seconds (DynamoDB's TTL reads epoch seconds): give at least Duration.seconds(1), in whole seconds.`,
    );
  }
  const floors: Array<[string, Duration | undefined, string]> = [
    ['maxRecordAge', props.maxRecordAge, 'the mapping redelivers records up to that age'],
    ['timeout', timeout, 'a batch retried after a timeout comes back at least that late'],
  ];
  for (const [prop, floor, why] of floors) {
    if (floor && seconds < floor.toSeconds()) {
      throw new ConstructPropsError(
        'idempotency.expiry',
        `idempotency.expiry is ${seconds} s, shorter than ${prop} (${floor.toSeconds()} s): ${why}, and a record whose ledger entry expired runs again. Give an expiry of at least ${floor.toSeconds()} s (the default, 14 days, covers every dead letter the queue keeps).`,
      );
    }
  }
  return expiry;
}

/**
 * The breaker's cool-downs: whole seconds (the runtime and the resumer read them as such), at least
 * a second, the first no longer than the longest, the longest at most {@link MAX_BREAKER_COOL_DOWN}
 * and shorter than `maxRecordAge` (Lambda skips records older than that, and a paused mapping's
 * oldest record ages by the whole pause).
 * @returns the cool-downs, or undefined when `breaker` is false
 */
function validateBreaker(props: KafkaConsumerProps): CheckedBreaker | undefined {
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

/**
 * A ledger table the user gives must be in the function's region: the runtime calls DynamoDB's
 * regional endpoint, where a table of another region does not exist (every claim would fail and
 * every partition be redelivered unrun). Checked when both regions are known.
 */
export function validateIdempotencyTableRegion(table: dynamodb.ITable, consumer: Stack): void {
  // The ARN's region: an imported table's `env` is the importing stack's.
  const region = Arn.split(table.tableArn, ArnFormat.SLASH_RESOURCE_NAME).region ?? consumer.region;
  if (Token.compareStrings(region, consumer.region) === TokenComparison.DIFFERENT) {
    throw new ConstructPropsError(
      'idempotency.table',
      `idempotency.table is in ${region}, but the consumer function runs in ${consumer.region}, and the ledger calls DynamoDB in its own region. Give a table in ${consumer.region} (or leave idempotency.table out and the construct creates one).`,
    );
  }
}

/** SQS retention, and an S3 expiry that outlives every pointer in the queue. */
function validateDeadLetterStorage(
  props: KafkaConsumerProps,
): Pick<CheckedConsumerProps, 'deadLetterRetention' | 'deadLetterObjectExpiration'> {
  const retention = props.deadLetterRetention ?? Duration.days(14);
  if (retention.toSeconds() < 60 || retention.toSeconds() > 1_209_600) {
    throw new ConstructPropsError('deadLetterRetention', `deadLetterRetention is ${retention.toSeconds()} s; it must be 60 s – 14 days.`);
  }
  const expiration = props.deadLetterObjectExpiration ?? Duration.days(30);
  const minExpiration = Math.ceil(retention.toSeconds() / 86_400) + OBJECT_EXPIRY_MARGIN.toDays();
  if (expiration.toDays({ integral: false }) < minExpiration) {
    throw new ConstructPropsError(
      'deadLetterObjectExpiration',
      `deadLetterObjectExpiration is ${expiration.toDays({ integral: false })} days; with deadLetterRetention of ${retention.toSeconds()} s it must be at least ${minExpiration} days (the retention plus a day), or oversized dead letters would be deleted while their pointers still wait in the queue.`,
    );
  }
  return { deadLetterRetention: retention, deadLetterObjectExpiration: expiration };
}

/**
 * CloudWatch's PutMetricData: a namespace is 1–255 characters, does not start with `:` or
 * `AWS/`; a dimension value (the service) is 1–1,024 ASCII characters, no control characters.
 */
function validateTelemetryNames(
  metricsNamespace: string,
  serviceName: string,
): Pick<CheckedConsumerProps, 'metricsNamespace' | 'serviceName'> {
  if (
    metricsNamespace.length < 1 ||
    metricsNamespace.length > 255 ||
    metricsNamespace.startsWith(':') ||
    metricsNamespace.startsWith('AWS/')
  ) {
    throw new ConstructPropsError(
      'metricsNamespace',
      `metricsNamespace is "${metricsNamespace}"; CloudWatch takes 1–255 characters that do not start with ":" or "AWS/" (reserved for AWS services).`,
    );
  }
  if (serviceName.length < 1 || serviceName.length > 1_024) {
    throw new ConstructPropsError(
      'serviceName',
      `serviceName is ${serviceName.length} characters; a CloudWatch dimension value takes 1–1024.`,
    );
  }
  if (!/^[\x20-\x7E]+$/.test(serviceName)) {
    // Metrics with such a dimension value are refused: the alarms would watch a series nobody publishes.
    throw new ConstructPropsError(
      'serviceName',
      `serviceName is ${JSON.stringify(serviceName)}; a CloudWatch dimension value takes printable ASCII characters only (no accents, no control characters): give serviceName in ASCII.`,
    );
  }
  return { metricsNamespace, serviceName };
}

/**
 * CloudFormation's `OnFailure.Destination` is 12–1024 characters, a Kafka one matching
 * `kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))`: after the 8 characters of `kafka://`, a topic of at least 4.
 */
const MIN_FAILURE_TOPIC_LENGTH = 12 - KAFKA_DESTINATION_PREFIX.length;

/**
 * A Kafka topic as the on-failure destination (Lambda guide, "Using a Kafka topic as an on-failure
 * destination"), as the mapping binds it. @returns the failure topic
 */
export function validateFailureTopic(target: string, topics: readonly string[], pollerMode: PollerMode): string {
  const topic = kafkaFailureTopic(target, [...topics])!; // refuses a source topic, as Lambda does
  // Requirements: "A Kafka on-failure destination is only available for event source mappings with provisioned mode enabled."
  if (pollerMode === 'on-demand') {
    throw new MappingSettingsError(
      `onFailure is ${target} (sources.KafkaDlq), but pollerMode is on-demand: Lambda sends failed records to a Kafka topic only in provisioned mode. Use pollerMode 'provisioned' (the default), or another destination (sources.SqsDlq, sources.SnsDlq, sources.S3OnFailureDestination).`,
    );
  }
  if (!isLambdaTopicName(topic, MIN_FAILURE_TOPIC_LENGTH)) {
    throw new MappingSettingsError(
      `onFailure is ${target}; CloudFormation takes a failure topic of ${topicNameRule(MIN_FAILURE_TOPIC_LENGTH)} (OnFailure.Destination: at least 12 characters, pattern kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))): name another topic.`,
    );
  }
  return topic;
}

/** CloudFormation's SchemaValidationConfigs: 1–2 distinct items, as the mapping binds them. */
export function validateSchemaValidationAttributes(attributes: readonly (string | undefined)[]): void {
  if (attributes.length === 0 || new Set(attributes).size !== attributes.length) {
    throw new MappingSettingsError(
      `schemaRegistryConfig's schemaValidationConfigs is [${attributes.join(', ')}]; CloudFormation takes one or two distinct attributes: give [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }], KEY, or both.`,
    );
  }
}

/** An MSK cluster ARN, the base of its topics' and groups' ARNs for IAM. */
export function validateMskClusterArn(clusterArn: string): void {
  if (Token.isUnresolved(clusterArn) || !/^arn:aws[a-z-]*:kafka:[^:]+:\d{12}:cluster\/[^/]+\/[^/]+$/.test(clusterArn)) {
    throw new ConstructPropsError(
      'cluster.clusterArn',
      `clusterArn "${clusterArn}" is not an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>).`,
    );
  }
}

/** The replay function's brokers, codec and authentication (it speaks SASL/SCRAM, IAM or TLS). */
export function validateReplayProps(cluster: KafkaCluster, compression: KafkaCompression): void {
  if (!cluster.bootstrapServers?.length) {
    throw new ConstructPropsError(
      'cluster.bootstrapServers',
      'cluster.bootstrapServers is empty: the replay function produces to the brokers and needs them (for MSK, the IAM bootstrap string, port 9098).',
    );
  }
  if (!KAFKA_COMPRESSION_CODECS.includes(compression)) {
    throw new ConstructPropsError(
      'compression',
      `compression is "${compression}"; it must be one of ${KAFKA_COMPRESSION_CODECS.join(', ')}.`,
    );
  }
  const method = cluster.kind === 'self-managed' && cluster.authSecret ? cluster.authenticationMethod?.toString() : undefined;
  if (method !== undefined && method !== 'SASL_SCRAM_512_AUTH' && method !== 'SASL_SCRAM_256_AUTH') {
    throw new ConstructPropsError(
      'cluster.authenticationMethod',
      `authenticationMethod ${method} is not supported by the replay function; use SASL_SCRAM_512_AUTH or SASL_SCRAM_256_AUTH.`,
    );
  }
}
