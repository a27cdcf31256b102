// The synth-time checks of KafkaConsumer's props, run together here; each concern's checks are in
// its own module (*-validation.ts, failure-modes.ts). A wrong mapping setting throws
// MappingSettingsError (the rules the emulator shares are in src/mapping); any other wrong prop
// throws ConstructPropsError, naming the prop and how to fix it.
import { existsSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import { type CheckedBreaker, validateBreaker } from './breaker-validation.js';
import { validateCluster } from './cluster-validation.js';
import { validateEnvironment } from './environment-validation.js';
import { ConstructPropsError, MappingSettingsError } from './errors.js';
import { validateIdempotencyExpiry } from './idempotency-validation.js';
import type { KafkaConsumerProps } from './kafka-consumer-props.js';
import { DEFAULT_METRICS_NAMESPACE, DEFAULT_TIME_SAFETY_MARGIN_MS } from '../contract/index.js';
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
