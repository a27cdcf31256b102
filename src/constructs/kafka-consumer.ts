import { existsSync } from 'node:fs';
import { Annotations, Arn, ArnFormat, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ClusterNetwork, MSK_BROKER_PORTS, brokerPortsOf, type ClusterVpcProps } from './cluster-network.js';
import { leastPrivilegeOnFailure } from './on-failure-destination.js';
import {
  KAFKA_DESTINATION_PREFIX, MappingSettingsError, effectiveMappingSettings, isLambdaTopicName, kafkaFailureTopic, topicNameRule,
  type EffectiveMappingSettings, type MappingSettings, type PollerMode, type SettingNames, type StartingPosition,
} from '../mapping/mapping-settings.js';
import { CONSUMER_ENV, DEAD_LETTER_PREFIX, DEFAULT_METRICS_NAMESPACE, DEFAULT_TIME_SAFETY_MARGIN_MS, ENV, type ConsumerEnvName } from '../contract/index.js';
import { RetryPolicy, type RetryOptions } from '../runtime/retry.js';
import { mappingConsumerGroupId } from '../runtime/consumer-group.js';

/** An Amazon MSK cluster, reached with IAM auth; give its `vpc` unless the brokers are public. */
export interface MskCluster extends ClusterVpcProps {
  readonly kind: 'msk';
  /** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>` */
  readonly clusterArn: string;
  /** The cluster's IAM bootstrap servers, for the replay function (the mapping finds them itself). @default none */
  readonly bootstrapServers?: string[];
}

/** A self-managed Apache Kafka cluster (or Redpanda, Confluent, …). */
export interface SelfManagedCluster extends ClusterVpcProps {
  readonly kind: 'self-managed';
  readonly bootstrapServers: string[];
  /**
   * Secrets Manager secret with the mapping's credentials: `{"username","password"}` for
   * SASL/SCRAM and BASIC_AUTH, or the client certificate and key for CLIENT_CERTIFICATE_TLS_AUTH
   * (mTLS). aws-cdk-lib's `secret`. @default no authentication (only with a `vpc`)
   */
  readonly authSecret?: secretsmanager.ISecret;
  /** What `authSecret` holds. aws-cdk-lib's type. @default SASL_SCRAM_512_AUTH when a secret is given */
  readonly authenticationMethod?: sources.AuthenticationMethod;
  /**
   * Secrets Manager secret with the root CA certificate of brokers whose TLS certificates a
   * private CA signed (SERVER_ROOT_CA_CERTIFICATE). aws-cdk-lib's name. @default the brokers' certificates are publicly trusted
   */
  readonly rootCACertificate?: secretsmanager.ISecret;
}

export type KafkaCluster = MskCluster | SelfManagedCluster;

/** Thresholds of the alarms the construct creates. */
export interface ConsumerAlarmThresholds {
  /** Visible dead letters that raise the alarm. @default 1 */
  readonly deadLetters?: number;
  /** Age of the oldest dead letter. @default 1 hour */
  readonly oldestDeadLetterAge?: Duration;
  /** Function errors (whole-batch failures) in 5 minutes. @default 1 */
  readonly functionErrors?: number;
  /** Throttled invocations in 5 minutes. @default 1 */
  readonly throttles?: number;
  /** The mapping's OffsetLag (records behind the head). @default 10,000 */
  readonly offsetLag?: number;
  /** Records dead-lettered in 5 minutes (the runtime's own metric). @default 1 */
  readonly recordsDeadLettered?: number;
  /**
   * Visible messages in the on-failure queue: batches the mapping gave up on (retries or record
   * age exhausted) and skipped; the queue holds their offsets, not their records. @default 1
   */
  readonly skippedBatches?: number;
  /** Errors of the mappings' pollers (`PollingErrorCount`, summed over the topics) in 5 minutes; provisioned mode. @default 1 */
  readonly pollingErrors?: number;
}

export interface KafkaConsumerProps {
  readonly cluster: KafkaCluster;
  /** Topics to consume; one event source mapping per topic. */
  readonly topics: string[];
  /**
   * The consumer groups' base name: each topic's mapping reads as `<consumerGroupId>-<topic>`,
   * because Lambda requires a group id unique among all Kafka mappings. Immutable once created.
   * @default Lambda generates one per mapping
   */
  readonly consumerGroupId?: string;
  /** Records per invocation, 1–10,000. @default 100 */
  readonly batchSize?: number;
  /** Batching window, whole seconds 0–300. @default unset: Lambda's Kafka default, 500 ms */
  readonly maxBatchingWindow?: Duration;
  /** @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** Epoch seconds, with AT_TIMESTAMP. @default none */
  readonly startingPositionTimestamp?: number;
  /**
   * How Lambda runs the mappings' pollers. Provisioned mode is the only one in which Lambda
   * honours partial batch responses, retries, bisection and record age for Kafka; its pollers
   * are billed while they run. On demand, Lambda commits whole batches, so the runtime fails the
   * invocation (and the batch is retried whole) rather than answer with a partial response.
   * @default 'provisioned'
   */
  readonly pollerMode?: PollerMode;
  /**
   * Provisioned mode: pollers per mapping (one handles up to 5 MB/s or 5 concurrent invocations),
   * and `pollerGroupName` to let several mappings share them. aws-cdk-lib's type.
   * @default 1–10 pollers of the mapping's own
   */
  readonly provisionedPollerConfig?: sources.ProvisionedPollerConfig;
  /** Retries of a failed invocation (-1 infinite, 0–10,000); provisioned mode. @default -1: until the record's age or 10 retries, Lambda's cap with an on-failure destination */
  readonly retryAttempts?: number;
  /** Records older than this (60 s – 7 days) go to the on-failure queue without being processed; provisioned mode. @default no limit */
  readonly maxRecordAge?: Duration;
  /** Split a failing batch and retry the halves; provisioned mode. @default false */
  readonly bisectBatchOnError?: boolean;
  /** Partial batch responses; provisioned mode only. @default true in provisioned mode, false on demand */
  readonly reportBatchItemFailures?: boolean;
  /**
   * Your handler's file (TypeScript or JavaScript), written with `kafkaConsumer()` from
   * `<package>/runtime`; esbuild bundles it with what it imports.
   */
  readonly entry: string;
  /** @default 'handler' */
  readonly handler?: string;
  /**
   * The retry policy the handler's `kafkaConsumer({ retry })` uses, so synth can check that the
   * timeout leaves room for it. @default the runtime's defaults (3 attempts, 100 ms – 2 s)
   */
  readonly recordRetry?: RetryOptions;
  /** @default 1024 MB */
  readonly memorySize?: number;
  /** @default 60 s */
  readonly timeout?: Duration;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Extra environment for the handler. The variables the runtime reads are the construct's
   * (`DLQ_URL`, `DLQ_BUCKET`, `KAFKA_CONSUMER_GROUP`, `REPORT_BATCH_ITEM_FAILURES`,
   * `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`): synth refuses them here and
   * names the prop that sets each. @default none
   */
  readonly environment?: Record<string, string>;
  /** How long dead letters are kept, 1 min – 14 days. @default 14 days */
  readonly deadLetterRetention?: Duration;
  /**
   * Expiry of oversized dead letters in S3: at least `deadLetterRetention` plus a day, so that no
   * pointer in the queue outlives its object. @default 30 days
   */
  readonly deadLetterObjectExpiration?: Duration;
  /** Encrypt queues and bucket with this key. @default SQS- and S3-managed encryption */
  readonly encryptionKey?: kms.IKey;
  /**
   * CloudWatch namespace of the runtime's metrics: the function's `POWERTOOLS_METRICS_NAMESPACE`,
   * and the namespace every alarm and dashboard widget on those metrics reads. @default 'KafkaConsumer'
   */
  readonly metricsNamespace?: string;
  /**
   * Service name: the function's `POWERTOOLS_SERVICE_NAME` (the metrics' `service` dimension and
   * the logs' `service` field), and the `service` every alarm and dashboard widget on those metrics reads.
   * @default the construct's id
   */
  readonly serviceName?: string;
  /** @default see {@link ConsumerAlarmThresholds} */
  readonly alarmThresholds?: ConsumerAlarmThresholds;
  /** Where alarms notify. @default no action */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Event filters, ORed; a record that matches none is committed without invoking the function.
   * Kafka mappings filter on `value` only: `lambda.FilterCriteria.filter({ value: { kind: lambda.FilterRule.isEqual('order') } })`.
   * aws-cdk-lib's name and type. @default every record is sent
   */
  readonly filters?: ReadonlyArray<{ readonly [key: string]: unknown }>;
  /**
   * Customer-managed KMS key that encrypts the filters. The construct adds kms:Decrypt for Lambda's
   * regional service principal to the policy of a key it owns; an imported key's policy is yours
   * (see the README). @default an AWS-owned key
   */
  readonly filterEncryption?: kms.IKey;
  /**
   * A schema registry that validates and decodes Avro, Protobuf or JSON Schema records:
   * `new sources.GlueSchemaRegistry(…)` or `new sources.ConfluentSchemaRegistry(…)`, with one or
   * two `schemaValidationConfigs` (KEY, VALUE). Provisioned mode only.
   * @default records arrive as produced
   */
  readonly schemaRegistryConfig?: lambda.ISchemaRegistry;
  /**
   * Where the mapping sends batches it gave up on: `sources.SqsDlq`, `sources.SnsDlq` (metadata
   * only), `sources.S3OnFailureDestination` (metadata and the records), `sources.KafkaDlq`
   * (each record, to a topic of the same cluster; provisioned mode only). @default the construct's own queue (`onFailureQueue`), metadata only
   */
  readonly onFailure?: lambda.IEventSourceDlq;
  /**
   * The mapping's own metrics (`lambda.MetricType`: EVENT_COUNT, ERROR_COUNT, KAFKA_METRICS).
   * Provisioned mode only. In provisioned mode the construct always adds EVENT_COUNT and
   * ERROR_COUNT to what is given here: `StalledMappingAlarm` watches each mapping's
   * `PolledEventCount` (0 on an empty poll, nothing from a mapping that cannot poll) and
   * `PollingErrorsAlarm` its `PollingErrorCount`, and Lambda publishes neither without them.
   * These metrics are billed as CloudWatch metrics, per mapping (Amazon CloudWatch pricing).
   * @default EVENT_COUNT and ERROR_COUNT in provisioned mode; none on demand (Lambda takes none)
   */
  readonly metricsConfig?: lambda.MetricsConfig;
  /** The pollers' system logs (`lambda.EventSourceMappingLogLevel`). Provisioned mode only. @default no logs */
  readonly logLevel?: lambda.EventSourceMappingLogLevel;
  /** Whether the mappings poll. @default true */
  readonly enabled?: boolean;
  /**
   * Shorthand for `provisionedPollerConfig.pollerGroupName`: mappings with the same name share
   * provisioned pollers. Provisioned mode only. @default pollers of the mapping's own
   */
  readonly pollerGroupName?: string;
}

/** S3 expires objects at the first midnight UTC after their age is reached: up to a day late, never early. */
const OBJECT_EXPIRY_MARGIN = Duration.days(1);
/** The period of the stall alarm's data points, and the fewest of them that make a stall (15 minutes). */
const STALL_PERIOD = Duration.minutes(5);
const MIN_STALL_PERIODS = 3;
/** The mapping metric groups the alarms read (Lambda guide, "Event source mapping metrics"): PolledEventCount, PollingErrorCount. */
const ALARMED_MAPPING_METRICS = [lambda.MetricType.EVENT_COUNT, lambda.MetricType.ERROR_COUNT];
/** Metrics one CloudWatch alarm's metric math may read (CloudWatch alarm limits). */
export const MAX_ALARM_METRICS = 10;

/** cdk-nag: object keys under the dead-letter prefix of the one bucket are the narrowest scope S3 has. */
export function deadLetterObjectsAck(bucket: s3.IBucket) {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  return {
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${DEAD_LETTER_PREFIX}*]`,
    reason: 'Dead letters are objects with per-record keys under one prefix of the one dead-letter bucket.',
  };
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
  [ENV.serviceName]: { for: 'the service its alarms and dashboard watch', prop: 'serviceName' },
  [ENV.metricsNamespace]: { for: 'the namespace its alarms and dashboard watch', prop: 'metricsNamespace' },
};

/** Refuses the variables the construct sets, naming the prop to use. */
function validateEnvironment(environment: Readonly<Record<string, string>> | undefined): void {
  for (const name of CONSUMER_ENV) {
    if (environment?.[name] === undefined) continue;
    const { for: purpose, prop } = RESERVED_ENVIRONMENT[name];
    throw new MappingSettingsError(`environment.${name} is set, but KafkaConsumer sets ${name} itself, to ${purpose}: ${prop ? `give the prop ${prop} instead` : 'leave it out'}.`);
  }
}

/**
 * CloudWatch's PutMetricData: a namespace is 1–255 characters, does not start with `:` or
 * `AWS/`; a dimension value (the service) is 1–1,024 ASCII characters, no control characters.
 */
function validateTelemetryNames(namespace: string, serviceName: string): void {
  if (namespace.length < 1 || namespace.length > 255 || namespace.startsWith(':') || namespace.startsWith('AWS/')) {
    throw new MappingSettingsError(`metricsNamespace is "${namespace}"; CloudWatch takes 1–255 characters that do not start with ":" or "AWS/" (reserved for AWS services).`);
  }
  if (serviceName.length < 1 || serviceName.length > 1_024) {
    throw new MappingSettingsError(`serviceName is ${serviceName.length} characters; a CloudWatch dimension value takes 1–1024.`);
  }
  if (!/^[\x20-\x7E]+$/.test(serviceName)) {
    // Metrics with such a dimension value are refused: the alarms would watch a series nobody publishes.
    throw new MappingSettingsError(`serviceName is ${JSON.stringify(serviceName)}; a CloudWatch dimension value takes printable ASCII characters only (no accents, no control characters): give serviceName in ASCII.`);
  }
}

/** The props that carry each shared setting, so that synth errors name what the user wrote. */
function propNames(props: KafkaConsumerProps): SettingNames {
  const names: Partial<Record<keyof MappingSettings, string>> = {
    maxBatchingWindowSeconds: 'maxBatchingWindow',
    minPollers: 'provisionedPollerConfig.minimumPollers',
    maxPollers: 'provisionedPollerConfig.maximumPollers',
    pollerGroupName: props.pollerGroupName !== undefined ? 'pollerGroupName' : 'provisionedPollerConfig.pollerGroupName',
    maxRecordAgeSeconds: 'maxRecordAge (seconds)',
    metrics: 'metricsConfig',
    schemaRegistry: 'schemaRegistryConfig',
  };
  return (key) => names[key] ?? key;
}

/** The kind of a schema registry, for the provisioned-mode rule and the README's coverage. */
function schemaRegistryKind(registry: lambda.ISchemaRegistry | undefined): MappingSettings['schemaRegistry'] {
  if (!registry) return undefined;
  return registry instanceof sources.GlueSchemaRegistry ? 'glue' : 'confluent';
}

/** Converts props to the shared settings (so the emulator and synth validate alike). */
export function mappingSettingsOf(props: KafkaConsumerProps): MappingSettings {
  const pollers = props.provisionedPollerConfig;
  const s: Record<string, unknown> = {
    topics: props.topics,
    consumerGroupId: props.consumerGroupId,
    batchSize: props.batchSize,
    maxBatchingWindowSeconds: props.maxBatchingWindow?.toMilliseconds({ integral: false }),
    startingPosition: props.startingPosition,
    startingPositionTimestamp: props.startingPositionTimestamp,
    pollerMode: props.pollerMode,
    minPollers: pollers?.minimumPollers,
    maxPollers: pollers?.maximumPollers,
    pollerGroupName: props.pollerGroupName ?? pollers?.pollerGroupName,
    retryAttempts: props.retryAttempts,
    maxRecordAgeSeconds: props.maxRecordAge?.toSeconds(),
    bisectBatchOnError: props.bisectBatchOnError,
    reportBatchItemFailures: props.reportBatchItemFailures,
    filters: props.filters,
    metrics: props.metricsConfig?.metrics,
    logLevel: props.logLevel,
    schemaRegistry: schemaRegistryKind(props.schemaRegistryConfig),
  };
  if (typeof s.maxBatchingWindowSeconds === 'number') s.maxBatchingWindowSeconds /= 1_000;
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as MappingSettings;
}

/**
 * CloudFormation's `OnFailure.Destination` is 12–1024 characters, a Kafka one matching
 * `kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))`: after the 8 characters of `kafka://`, a topic of at least 4.
 */
const MIN_FAILURE_TOPIC_LENGTH = 12 - KAFKA_DESTINATION_PREFIX.length;

/** The AWS service an on-failure destination is, by aws-cdk-lib's destination class. */
function onFailureService(onFailure: lambda.IEventSourceDlq | undefined): 'sqs' | 'sns' | 's3' | 'kafka' {
  if (onFailure instanceof sources.SnsDlq) return 'sns';
  if (onFailure instanceof sources.S3OnFailureDestination) return 's3';
  if (onFailure instanceof sources.KafkaDlq) return 'kafka';
  return 'sqs';
}

/** Rules between the mapping capabilities that the shared settings do not see. */
function validateCapabilities(props: KafkaConsumerProps): void {
  if (props.filterEncryption && !props.filters?.length) {
    throw new MappingSettingsError('filterEncryption is set but filters is not: the key encrypts the filters, so give filters, or leave filterEncryption out.');
  }
  const groupInConfig = props.provisionedPollerConfig?.pollerGroupName;
  if (props.pollerGroupName !== undefined && groupInConfig !== undefined && groupInConfig !== props.pollerGroupName) {
    throw new MappingSettingsError(`pollerGroupName is "${props.pollerGroupName}" and provisionedPollerConfig.pollerGroupName is "${groupInConfig}": give one of them.`);
  }
  const cluster = props.cluster;
  if (cluster.kind === 'self-managed' && cluster.authenticationMethod && !cluster.authSecret) {
    throw new MappingSettingsError(`cluster.authenticationMethod is ${cluster.authenticationMethod} but cluster.authSecret is not set: give the secret with the credentials (or the client certificate for CLIENT_CERTIFICATE_TLS_AUTH), or leave authenticationMethod out.`);
  }
}

/**
 * A Kafka consumer on Lambda: the function (bundled with esbuild, Node.js 24, ARM64), one
 * event source mapping per topic, the dead-letter queue and its overflow bucket, the
 * mapping's on-failure queue, least-privilege IAM, and alarms.
 */
export class KafkaConsumer extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly deadLetterBucket: s3.Bucket;
  /**
   * Where the mapping sends metadata of batches it discarded, unless `onFailure` names another
   * destination. @default created when `onFailure` is not given
   */
  readonly onFailureQueue?: sqs.Queue;
  /**
   * The bucket of an `onFailure` `S3OnFailureDestination`; `DeadLetterReplay` replays its objects
   * (and may decrypt them with the bucket's key, when the bucket names one).
   * @default none, when `onFailure` is not an S3 destination
   */
  readonly onFailureBucket?: s3.IBucket;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly metricsNamespace: string;
  readonly serviceName: string;
  /** What the mappings do, defaults filled in. */
  readonly settings: EffectiveMappingSettings;
  readonly eventSources: Array<sources.ManagedKafkaEventSource | sources.SelfManagedKafkaEventSource> = [];
  /** The cluster as given, with the security group created for its VPC when none was. */
  readonly cluster: KafkaCluster;
  /** The cluster's VPC, security group and endpoints. @default none when the cluster has no VPC */
  readonly network?: ClusterNetwork;
  readonly encryptionKey?: kms.IKey;
  /** Each topic's mapping id (CloudFormation `Ref`, the UUID). */
  readonly #mappingIds = new Map<string, string>();

  constructor(scope: Construct, id: string, props: KafkaConsumerProps) {
    super(scope, id);
    this.settings = effectiveMappingSettings(mappingSettingsOf(props), propNames(props));
    validateCapabilities(props);
    validateEnvironment(props.environment);
    if (!props.entry || !existsSync(props.entry)) {
      throw new MappingSettingsError(`entry is ${props.entry ? `"${props.entry}", which does not exist` : 'not set'}: give the path of your handler file (written with kafkaConsumer()), for example fileURLToPath(new URL('./handler.ts', import.meta.url)).`);
    }
    if (props.cluster.kind === 'self-managed' && !props.cluster.authSecret && !props.cluster.vpc) {
      throw new MappingSettingsError('cluster: self-managed brokers reached over the internet need authSecret (SASL/SCRAM or BASIC_AUTH credentials, or a client certificate for CLIENT_CERTIFICATE_TLS_AUTH); give it, or the vpc they live in.');
    }
    const timeout = props.timeout ?? Duration.seconds(60);
    const retry = new RetryPolicy(props.recordRetry);
    const needed = retry.worstCaseDelayMs() + DEFAULT_TIME_SAFETY_MARGIN_MS + 1_000;
    // Lambda guide, "Configuring Amazon MSK event sources": Kafka mappings support functions
    // with a timeout of at most 14 minutes.
    if (timeout.toSeconds() > 14 * 60) {
      throw new MappingSettingsError(`timeout is ${timeout.toSeconds()} s; a function behind a Kafka event source mapping may have at most 14 minutes (840 s).`);
    }
    if (timeout.toMilliseconds() < needed) {
      throw new MappingSettingsError(`timeout is ${timeout.toSeconds()} s; with recordRetry's backoff (up to ${retry.worstCaseDelayMs()} ms per record) and the ${DEFAULT_TIME_SAFETY_MARGIN_MS / 1_000} s safety margin it must be at least ${Math.ceil(needed / 1_000)} s.`);
    }
    if (props.memorySize !== undefined && (props.memorySize < 128 || props.memorySize > 10_240)) {
      throw new MappingSettingsError(`memorySize is ${props.memorySize}; it must be 128–10240 MB.`);
    }
    const retention = props.deadLetterRetention ?? Duration.days(14);
    if (retention.toSeconds() < 60 || retention.toSeconds() > 1_209_600) {
      throw new MappingSettingsError(`deadLetterRetention is ${retention.toSeconds()} s; it must be 60 s – 14 days.`);
    }
    const expiration = props.deadLetterObjectExpiration ?? Duration.days(30);
    const minExpiration = Math.ceil(retention.toSeconds() / 86_400) + OBJECT_EXPIRY_MARGIN.toDays();
    if (expiration.toDays({ integral: false }) < minExpiration) {
      throw new MappingSettingsError(`deadLetterObjectExpiration is ${expiration.toDays({ integral: false })} days; with deadLetterRetention of ${retention.toSeconds()} s it must be at least ${minExpiration} days (the retention plus a day), or oversized dead letters would be deleted while their pointers still wait in the queue.`);
    }
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE;
    this.encryptionKey = props.encryptionKey;
    this.network = this.#network(props, id);
    this.cluster = this.network ? { ...props.cluster, securityGroup: this.network.securityGroup } : props.cluster;
    this.serviceName = props.serviceName ?? id;
    validateTelemetryNames(this.metricsNamespace, this.serviceName);

    const queueEncryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    // Both queues outlive the stack, as the bucket does: deleting a stack (or replacing a queue)
    // must not delete records nobody has replayed yet.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...queueEncryption, enforceSSL: true, retentionPeriod: retention, visibilityTimeout: Duration.minutes(15), removalPolicy: RemovalPolicy.RETAIN,
    });
    if (!props.onFailure) {
      this.onFailureQueue = new sqs.Queue(this, 'OnFailureQueue', { ...queueEncryption, enforceSSL: true, retentionPeriod: Duration.days(14), removalPolicy: RemovalPolicy.RETAIN });
    }
    this.deadLetterBucket = new s3.Bucket(this, 'DeadLetterBucket', {
      ...(props.encryptionKey ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey } : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const queue of [this.deadLetterQueue, ...(this.onFailureQueue ? [this.onFailureQueue] : [])]) {
      Validations.of(queue).acknowledge({ id: 'AwsSolutions::AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter destination; nothing consumes it in a loop that could need one behind it.' });
    }
    Validations.of(this.deadLetterBucket).acknowledge({
      id: 'AwsSolutions::AwsSolutions-S1',
      reason: 'Only the consumer writes and only the replay function reads, under IAM; CloudTrail data events audit object access where required, without a second logging bucket.',
    });

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      bundling: bundlingOptions(),
      environment: {
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [ENV.deadLetterBucket]: this.deadLetterBucket.bucketName,
        [ENV.serviceName]: this.serviceName,
        [ENV.metricsNamespace]: this.metricsNamespace,
        ...nodeOptions(),
        ...(props.consumerGroupId ? { [ENV.consumerGroup]: props.consumerGroupId } : {}),
        ...props.environment, // none of the construct's own: validateEnvironment refused them
        // Lambda ignores partial responses of a mapping without them: the runtime must then fail the batch instead.
        [ENV.reportBatchItemFailures]: String(this.settings.reportBatchItemFailures),
      },
    });
    this.deadLetterQueue.grantSendMessages(this.function);
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [this.deadLetterBucket.arnForObjects(`${DEAD_LETTER_PREFIX}*`)] }));
    props.encryptionKey?.grantEncrypt(this.function);
    Validations.of(this.function).acknowledge(deadLetterObjectsAck(this.deadLetterBucket));

    for (const topic of props.topics) {
      const source = this.#eventSource({ ...props, cluster: this.cluster }, topic);
      this.function.addEventSource(source);
      this.eventSources.push(source);
    }
    // aws-cdk-lib exposes the mapping's id on ManagedKafkaEventSource only: read it from the mappings.
    for (const mapping of this.#mappings()) this.#mappingIds.set(mapping.topics![0]!, mapping.ref);
    if (props.cluster.kind === 'msk') this.#grantMskRead(props.cluster.clusterArn, props.topics, props.consumerGroupId);
    this.onFailureBucket = this.#allowOnFailureDestination(props);
    this.#allowSchemaRegistry(props.schemaRegistryConfig);
    if (props.filterEncryption) this.#allowFilterDecryption(props.filterEncryption, id);
    if (this.settings.pollerMode === 'on-demand') {
      // On demand, the mapping invokes the function and assumes its role from the cluster's VPC
      // (Lambda guide, "Configuring your Amazon MSK cluster and Amazon VPC network for Lambda");
      // provisioned pollers do both from Lambda's own network.
      this.network?.allow('lambda', lambdaServiceEndpointStatement('lambda:InvokeFunction'));
      this.network?.allow('sts', lambdaServiceEndpointStatement('sts:AssumeRole'));
    }
    if (this.cluster.kind === 'self-managed' && this.cluster.vpc) {
      // A self-managed cluster's mapping places its network interfaces in the VPC with the
      // function's role (Lambda guide, "Configuring Lambda execution role permissions" for
      // self-managed Kafka); aws-cdk-lib's SelfManagedKafkaEventSource does not grant them.
      this.function.addToRolePolicy(new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DeleteNetworkInterface', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'],
        resources: ['*'],
      }));
      Validations.of(this.function).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason: 'EC2 network-interface and describe actions the self-managed Kafka mapping needs in the VPC take no resource-level scope for these calls (as in AWSLambdaVPCAccessExecutionRole).',
      });
    }
    if (this.cluster.kind === 'self-managed') {
      // The mapping reads its secrets with the function's role (Lambda guide, "Configuring Lambda
      // permissions" for Kafka: kms:Decrypt for secrets under a customer managed key). aws-cdk-lib
      // grants the auth secret (not its imported key) and not the root CA certificate.
      this.cluster.rootCACertificate?.grantRead(this.function);
      for (const secret of [this.cluster.authSecret, this.cluster.rootCACertificate]) {
        if (!secret) continue;
        grantSecretKeyDecrypt(secret, this.function);
        this.network?.allow('secretsmanager', endpointStatement(SECRET_READ_ACTIONS, [secret.secretArn]));
      }
    }
    this.#alarms(props, props.alarmThresholds ?? {}, props.alarmTopic);
  }

  /** The mappings as synthesized: aws-cdk-lib's destination and registry classes keep what they bind private. */
  #mappings(): lambda.CfnEventSourceMapping[] {
    return this.function.node.findAll().filter((c): c is lambda.CfnEventSourceMapping => c instanceof lambda.CfnEventSourceMapping);
  }

  /** The first mapping as synthesized. */
  #boundMapping(): lambda.CfnEventSourceMapping {
    return this.#mappings()[0]!;
  }

  /**
   * The on-failure destination's rules and grants, read from the mapping as synthesized.
   * aws-cdk-lib grants the role SQS send, SNS publish and S3 read-write; the Kafka topic, the
   * VPC endpoints and the deny of S3 deletes are added here. Returns an S3 destination's bucket.
   */
  #allowOnFailureDestination(props: KafkaConsumerProps): s3.IBucket | undefined {
    const destination = (this.#boundMapping().destinationConfig as lambda.CfnEventSourceMapping.DestinationConfigProperty | undefined)?.onFailure as lambda.CfnEventSourceMapping.OnFailureProperty | undefined;
    const target = destination?.destination;
    if (!target) return;
    const service = onFailureService(props.onFailure);
    if (service === 'kafka') {
      this.#allowFailureTopic(props, target);
      return;
    }
    // The mapping sends to its on-failure destination from the cluster's VPC, with the function's role
    // (Lambda guide: "You must deploy a VPC endpoint for your on-failure destination service").
    if (service === 'sns') {
      this.network?.allow('sns', endpointStatement(['sns:Publish'], [target]));
    } else if (service === 's3') {
      this.network?.allow('s3', endpointStatement(['s3:PutObject', 's3:ListBucket'], [target, `${target}/*`]));
      // aws-cdk-lib grants read-write on the bucket, where Lambda needs s3:PutObject and
      // s3:ListBucket ("Capturing discarded batches"): the role may not delete the batches kept there.
      this.function.addToRolePolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:DeleteObject*'], resources: [`${target}/*`] }));
      // The user's bucket, with its encryption key (aws-cdk-lib keeps it private in the destination,
      // read here by name; a test fails if that changes), so the replay can read what the mapping wrote.
      return (props.onFailure as unknown as { bucket: s3.IBucket }).bucket;
    } else {
      this.network?.allow('sqs', endpointStatement(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], [target]));
    }
  }

  /** A Kafka topic as the on-failure destination (Lambda guide, "Using a Kafka topic as an on-failure destination"). */
  #allowFailureTopic(props: KafkaConsumerProps, target: string) {
    const topic = kafkaFailureTopic(target, props.topics)!; // refuses a source topic, as Lambda does
    // Requirements: "A Kafka on-failure destination is only available for event source mappings with provisioned mode enabled."
    if (this.settings.pollerMode === 'on-demand') {
      throw new MappingSettingsError(`onFailure is ${target} (sources.KafkaDlq), but pollerMode is on-demand: Lambda sends failed records to a Kafka topic only in provisioned mode. Use pollerMode 'provisioned' (the default), or another destination (sources.SqsDlq, sources.SnsDlq, sources.S3OnFailureDestination).`);
    }
    if (!isLambdaTopicName(topic, MIN_FAILURE_TOPIC_LENGTH)) {
      throw new MappingSettingsError(`onFailure is ${target}; CloudFormation takes a failure topic of ${topicNameRule(MIN_FAILURE_TOPIC_LENGTH)} (OnFailure.Destination: at least 12 characters, pattern kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))): name another topic.`);
    }
    // "Capturing discarded batches" (execution role): kafka-cluster:WriteData for a Kafka
    // destination. The guide's example policy also has DescribeCluster on the cluster, which a
    // producer's metadata requests may need; the consumer's Connect is granted by #grantMskRead.
    if (props.cluster.kind === 'msk') {
      this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeCluster'], resources: [props.cluster.clusterArn] }));
      this.function.addToRolePolicy(new iam.PolicyStatement({
        actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: [mskResourceArns(props.cluster.clusterArn).topic(topic)],
      }));
    }
  }

  /**
   * The schema registry's rules, grants and network, read from the mapping as synthesized.
   * aws-cdk-lib grants Glue's GetRegistry and GetSchemaVersion (on schemas in the stack's region
   * and account) and the read of a Confluent registry's secret (without an imported key's decrypt).
   */
  #allowSchemaRegistry(registry: lambda.ISchemaRegistry | undefined) {
    if (!registry) return;
    const kafkaConfig = (this.#boundMapping().amazonManagedKafkaEventSourceConfig ?? this.#boundMapping().selfManagedKafkaEventSourceConfig) as
      { schemaRegistryConfig: lambda.CfnEventSourceMapping.SchemaRegistryConfigProperty };
    const config = kafkaConfig.schemaRegistryConfig;
    // CloudFormation's SchemaValidationConfigs: 1–2 distinct items.
    const attributes = ((config.schemaValidationConfigs ?? []) as lambda.CfnEventSourceMapping.SchemaValidationConfigProperty[]).map((c) => c.attribute);
    if (attributes.length === 0 || new Set(attributes).size !== attributes.length) {
      throw new MappingSettingsError(`schemaRegistryConfig's schemaValidationConfigs is [${attributes.join(', ')}]; CloudFormation takes one or two distinct attributes: give [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }], KEY, or both.`);
    }
    if (registry instanceof sources.GlueSchemaRegistry) {
      this.#grantGlueSchemas(config.schemaRegistryUri!, registry);
    } else if (registry instanceof sources.ConfluentSchemaRegistry) {
      // The secret is the user's, given to the registry; aws-cdk-lib keeps it in the registry's
      // private props (read here by name; a test fails if that changes).
      const secret = registry['props'].secret;
      grantSecretKeyDecrypt(secret, this.function);
      this.network?.allow('secretsmanager', endpointStatement(SECRET_READ_ACTIONS, [secret.secretArn]));
      // AWS does not say from which network the pollers call the registry: let the created group reach it.
      const port = urlPort(config.schemaRegistryUri!);
      if (port !== undefined) this.network?.addClientEgress(port, 'Confluent schema registry');
    }
  }

  /**
   * Glue-framed records carry only their schema version id, which the mapping looks up with
   * glue:GetSchemaVersion. Glue's IAM example for deserializers grants that action on "*", and
   * the Glue Schema Registry maintainers say it takes no narrower resource (awslabs/aws-glue-schema-registry
   * issues 68 and 151): aws-cdk-lib's grant on the registry's schemas alone is refused. glue:GetRegistry
   * stays on the one registry, as aws-cdk-lib grants it.
   */
  #grantGlueSchemas(registryArn: string, registry: sources.GlueSchemaRegistry) {
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['glue:GetSchemaVersion'], resources: ['*'] }));
    const reason = 'glue:GetSchemaVersion takes no resource narrower than "*": a record names only its schema version id (Glue developer guide, "Getting started with schema registry", IAM examples for deserializers; awslabs/aws-glue-schema-registry issues 68, 151).';
    Validations.of(this.function).acknowledge({ id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason });
    // aws-cdk-lib's own grant, on the registry's schemas (its props are private, read by name; the cdk-nag test fails if that changes).
    const props = (registry as unknown as { props: sources.GlueSchemaRegistryProps }).props;
    const name = props.schemaRegistry?.name ?? Arn.split(registryArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName;
    Validations.of(this.function).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::["arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:schema/\${registryName}/*",{"registryName":"${name}"}]]`,
      reason: `aws-cdk-lib's grant on the schemas of the one registry; ${reason}`,
    });
    if (Token.isUnresolved(registryArn)) return; // a registry of this stack
    const { account } = Arn.split(registryArn, ArnFormat.SLASH_RESOURCE_NAME);
    const stackAccount = Stack.of(this).account;
    if (account && !Token.isUnresolved(stackAccount) && account !== stackAccount) {
      Annotations.of(this).addWarningV2('kafka-consumers:glueRegistryInAnotherAccount', `schemaRegistryConfig names a Glue registry of account ${account}, but the mapping reads it with the function's role in account ${stackAccount}: Glue schema registries take no resource-based policy, and glue:GetSchemaVersion looks a schema version id up in the caller's own account, so the mapping cannot look their schemas up. Use a registry in the function's account (README, "Event source mapping capabilities").`);
    }
  }

  /**
   * Lambda guide, "Encryption of filter criteria": the key policy allows kms:Decrypt to the
   * regional Lambda service principal, limited by aws:SourceArn. Given `filterEncryption`,
   * aws-cdk-lib would also allow kms:Decrypt to the global lambda.amazonaws.com, unconditioned,
   * on a key it owns: so the key is set on the mappings here (KmsKeyArn) instead, and the key
   * policy gets only the regional statement, for this account's mappings (the mapping's own ARN
   * would make the key and the mapping depend on each other).
   */
  #allowFilterDecryption(key: kms.IKey, id: string) {
    for (const mapping of this.function.node.findAll()) if (mapping instanceof lambda.CfnEventSourceMapping) mapping.kmsKeyArn = key.keyArn;
    const stack = Stack.of(this);
    const mappings = stack.formatArn({ service: 'lambda', resource: 'event-source-mapping', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const { statementAdded } = key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`lambda.${stack.region}.amazonaws.com`)], actions: ['kms:Decrypt'], resources: ['*'],
      conditions: { ArnLike: { 'aws:SourceArn': mappings } },
    }));
    if (!statementAdded) {
      Annotations.of(this).addWarningV2('kafka-consumers:filterEncryptionKeyPolicy', `${id}: filterEncryption is an imported key, so its key policy is yours: it must allow kms:Decrypt to Lambda's regional service principal (lambda.<region>.amazonaws.com, with aws:SourceArn the mapping's ARN), and kms:GenerateDataKey, kms:DescribeKey and kms:Decrypt to whoever creates the mapping (the CloudFormation deployment role), or Lambda cannot encrypt and read the filters (Lambda guide, "Encryption of filter criteria").`);
    }
  }

  #network(props: KafkaConsumerProps, id: string): ClusterNetwork | undefined {
    const cluster = props.cluster;
    const service = onFailureService(props.onFailure);
    if (!cluster.vpc) {
      // A Kafka failure topic lives in the cluster and needs no way out.
      if (cluster.kind === 'msk' && service !== 'kafka') {
        Annotations.of(this).addWarningV2('kafka-consumers:mskWithoutVpc', `${id}: the MSK cluster was given without its vpc, so nothing gives the mapping's on-failure destination (${service.toUpperCase()}) a way out of the cluster's VPC: AWS requires a VPC endpoint for it there. Give cluster.vpc (app: -c vpcId=… -c subnetIds=…), or create the endpoint yourself.`);
      }
      return undefined;
    }
    if (cluster.kind === 'msk' && !cluster.securityGroup) {
      // The mapping's network interfaces use the MSK cluster's own groups (Lambda guide,
      // "Creating a Lambda event source mapping for an Amazon MSK event source"): endpoints that
      // admit a group created here would turn the mapping's on-failure sends away.
      throw new MappingSettingsError('cluster.securityGroup is required with an MSK cluster\'s vpc: give the cluster\'s own security group (app: -c securityGroupIds=sg-…), which the mapping uses and the VPC endpoints must admit.');
    }
    const mtls = cluster.kind === 'self-managed' && cluster.authenticationMethod === sources.AuthenticationMethod.CLIENT_CERTIFICATE_TLS_AUTH;
    const auth = cluster.kind === 'msk' ? 'iam' : cluster.authSecret && !mtls ? 'scram' : 'tls';
    return new ClusterNetwork(this, 'Network', { ...cluster, vpc: cluster.vpc, brokerPorts: brokerPortsOf(cluster.bootstrapServers, MSK_BROKER_PORTS[auth]) });
  }

  #eventSource(props: KafkaConsumerProps, topic: string) {
    const s = this.settings;
    // On demand, every provisioned-only setting stays out of the template: Lambda would refuse
    // or ignore it (validation above already refused any the user asked for).
    const provisioned = s.pollerMode === 'provisioned' ? {
      provisionedPollerConfig: { minimumPollers: s.minPollers, maximumPollers: s.maxPollers, ...(s.pollerGroupName ? { pollerGroupName: s.pollerGroupName } : {}) },
      metricsConfig: { metrics: [...new Set([...(props.metricsConfig?.metrics ?? []), ...ALARMED_MAPPING_METRICS])] },
      ...(props.logLevel ? { logLevel: props.logLevel } : {}),
      ...(props.schemaRegistryConfig ? { schemaRegistryConfig: props.schemaRegistryConfig } : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      ...(props.maxRecordAge ? { maxRecordAge: props.maxRecordAge } : {}),
      ...(props.bisectBatchOnError !== undefined ? { bisectBatchOnError: props.bisectBatchOnError } : {}),
      reportBatchItemFailures: s.reportBatchItemFailures,
    } : {};
    const common = {
      topic,
      batchSize: s.batchSize,
      ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
      startingPosition: lambda.StartingPosition[s.startingPosition],
      ...(s.startingPositionTimestamp !== undefined ? { startingPositionTimestamp: s.startingPositionTimestamp } : {}),
      ...(s.consumerGroupId ? { consumerGroupId: mappingConsumerGroupId(s.consumerGroupId, topic) } : {}),
      ...provisioned,
      ...(props.filters ? { filters: [...props.filters] as Array<Record<string, unknown>> } : {}),
      ...(props.enabled !== undefined ? { enabled: props.enabled } : {}),
      onFailure: props.onFailure ? leastPrivilegeOnFailure(props.onFailure) : new sources.SqsDlq(this.onFailureQueue!),
    };
    const cluster = props.cluster;
    if (cluster.kind === 'msk') return new sources.ManagedKafkaEventSource({ ...common, clusterArn: cluster.clusterArn });
    return new sources.SelfManagedKafkaEventSource({
      ...common,
      bootstrapServers: cluster.bootstrapServers,
      ...(cluster.authSecret ? { secret: cluster.authSecret, authenticationMethod: cluster.authenticationMethod ?? sources.AuthenticationMethod.SASL_SCRAM_512_AUTH } : {}),
      ...(cluster.rootCACertificate ? { rootCACertificate: cluster.rootCACertificate } : {}),
      ...(cluster.vpc ? { vpc: cluster.vpc, vpcSubnets: cluster.vpcSubnets ?? {}, ...(cluster.securityGroup ? { securityGroup: cluster.securityGroup } : {}) } : {}),
    });
  }

  // The mapping reads with the function's role: MSK IAM actions on exactly this cluster, its topics and group.
  #grantMskRead(clusterArn: string, topics: string[], groupId: string | undefined) {
    const arns = mskResourceArns(clusterArn);
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
      resources: [clusterArn],
    }));
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resources: topics.map(arns.topic),
    }));
    this.function.addToRolePolicy(new iam.PolicyStatement({
      actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      resources: groupId ? topics.map((topic) => arns.group(mappingConsumerGroupId(groupId, topic))) : [arns.group('*')],
    }));
    if (!groupId) {
      Validations.of(this.function).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${arns.group('*')}]`,
        reason: 'No consumerGroupId was given, so Lambda names the group; the grant is still limited to groups of this one cluster.',
      });
    }
  }

  /** A metric the runtime publishes (EMF), by topic. */
  runtimeMetric(name: string, topic: string, statistic = 'Sum'): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.metricsNamespace, metricName: name, dimensionsMap: { service: this.serviceName, topic }, statistic, period: Duration.minutes(5) });
  }

  /** The mappings' OffsetLag, by topic. */
  offsetLagMetric(): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'OffsetLag', dimensionsMap: { FunctionName: this.function.functionName }, statistic: 'Maximum', period: Duration.minutes(1) });
  }

  /**
   * A metric of one topic's mapping (Lambda guide, "Event source mapping metrics": AWS/Lambda,
   * dimension EventSourceMappingUUID), published only for the groups in its MetricsConfig.
   */
  mappingMetric(topic: string, name: string, statistic = 'Sum'): cloudwatch.Metric {
    const id = this.#mappingIds.get(topic);
    if (id === undefined) throw new MappingSettingsError(`mappingMetric: "${topic}" is not one of this consumer's topics (${[...this.#mappingIds.keys()].join(', ')}).`);
    return new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: name, dimensionsMap: { EventSourceMappingUUID: id }, statistic, period: Duration.minutes(5) });
  }

  #alarms(props: KafkaConsumerProps, t: ConsumerAlarmThresholds, topic: sns.ITopic | undefined) {
    const topics = props.topics;
    const add = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string, options: {
      treatMissingData?: cloudwatch.TreatMissingData; evaluationPeriods?: number; comparisonOperator?: cloudwatch.ComparisonOperator;
    } = {}) => {
      const evaluationPeriods = options.evaluationPeriods ?? 1;
      const alarm = new cloudwatch.Alarm(this, id, {
        metric, threshold, evaluationPeriods, datapointsToAlarm: evaluationPeriods, alarmDescription: description,
        treatMissingData: options.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
        comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
      if (topic) alarm.addAlarmAction(new actions.SnsAction(topic));
      this.alarms.push(alarm);
    };
    // Alarms refuse SEARCH: sum a per-topic metric by name, at most MAX_ALARM_METRICS per alarm.
    const addSums = (id: string, metricOf: (topic: string) => cloudwatch.Metric, label: string, threshold: number, describe: (group: string[]) => string) => {
      for (let i = 0; i < topics.length; i += MAX_ALARM_METRICS) {
        const group = topics.slice(i, i + MAX_ALARM_METRICS);
        const usingMetrics = Object.fromEntries(group.map((name, j) => [`t${j}`, metricOf(name)]));
        const sum = new cloudwatch.MathExpression({ expression: `SUM([${Object.keys(usingMetrics).join(',')}])`, usingMetrics, period: Duration.minutes(5), label });
        add(`${id}${i ? i / MAX_ALARM_METRICS + 1 : ''}`, sum, threshold, describe(group));
      }
    };
    add('DeadLettersAlarm', this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), t.deadLetters ?? 1,
      'Records are waiting in the dead-letter queue: fix the cause, then invoke the replay function.',
      // SQS publishes queue metrics only while the queue is active: a quiet queue keeps its state.
      { treatMissingData: cloudwatch.TreatMissingData.IGNORE });
    add('OldestDeadLetterAlarm', this.deadLetterQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }), (t.oldestDeadLetterAge ?? Duration.hours(1)).toSeconds(),
      'A dead letter has waited too long; it is deleted when the queue retention runs out.', { treatMissingData: cloudwatch.TreatMissingData.IGNORE });
    // Lambda caps infinite retries at 10 when there is an on-failure destination, and sends an SQS
    // destination the batch's offsets only (Lambda guide, "kafka-on-failure"): those records are
    // skipped, and only this queue says which.
    // Only for the construct's own queue: another destination is the user's to watch.
    if (this.onFailureQueue) {
      add('SkippedBatchesAlarm', this.onFailureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }), t.skippedBatches ?? 1,
        'The event source mapping gave up on batches and skipped them: the on-failure queue names their offsets. Fix the cause, then re-read those offsets (see the README).',
        { treatMissingData: cloudwatch.TreatMissingData.IGNORE });
    }
    add('FunctionErrorsAlarm', this.function.metricErrors({ period: Duration.minutes(5) }), t.functionErrors ?? 1,
      'The consumer failed whole batches (thrown errors or timeouts): the mapping retries them.');
    add('ThrottlesAlarm', this.function.metricThrottles({ period: Duration.minutes(5) }), t.throttles ?? 1, 'The consumer is throttled: raise reserved concurrency or account limits.');
    add('OffsetLagAlarm', this.offsetLagMetric(), t.offsetLag ?? 10_000, 'The consumer is falling behind its topics.');
    // A stalled mapping: Lambda publishes PolledEventCount on every poll, 0 on an empty one, once
    // MetricsConfig has EventCount ("Use this metric to detect whether your event source mapping
    // is correctly polling"); a mapping that cannot poll publishes nothing. So one alarm per
    // mapping on its samples, missing data breaching; and PollingErrorCount (published only when
    // a poll fails, with ErrorCount). Lambda guide, "Event source mapping metrics". A disabled
    // mapping publishes none of them by design: no alarm for it.
    if (props.enabled !== false && this.settings.pollerMode === 'on-demand') {
      Annotations.of(this).addWarningV2('kafka-consumers:noStallAlarmOnDemand', 'pollerMode is on-demand, so a stalled mapping cannot alarm: only a mapping\'s own metrics (PolledEventCount, PollingErrorCount) tell a mapping that cannot poll from an idle one, and Lambda publishes them for Kafka only in provisioned mode (MetricsConfig). No StalledMappingAlarm or PollingErrorsAlarm is created. Use pollerMode \'provisioned\' (the default) to have them, or watch each mapping\'s State and LastProcessingResult yourself (README, "Operations").');
    } else if (props.enabled !== false) {
      // Long enough that a healthy mapping polls within it even behind the longest invocation:
      // the function's timeout plus the batching window, plus two periods for alignment and
      // CloudWatch's delay; never under 15 minutes.
      const window = (props.timeout ?? Duration.seconds(60)).toSeconds() + (props.maxBatchingWindow?.toSeconds() ?? 1);
      const periods = Math.max(MIN_STALL_PERIODS, Math.ceil(window / STALL_PERIOD.toSeconds()) + 2);
      for (const name of topics) {
        add(`StalledMappingAlarm-${name}`, this.mappingMetric(name, 'PolledEventCount', 'SampleCount').with({ period: STALL_PERIOD }), 1,
          `The mapping of ${name} has not polled for ${periods * STALL_PERIOD.toMinutes()} minutes: it published no PolledEventCount (a healthy mapping publishes one on every poll, 0 when the topic is quiet). Check its State, LastProcessingResult and StateTransitionReason: aws lambda get-event-source-mapping --uuid <id> (README, "Operations").`,
          // Samples exist whenever the mapping polls: only missing data (no poll) can breach.
          { treatMissingData: cloudwatch.TreatMissingData.BREACHING, evaluationPeriods: periods, comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD });
      }
      addSums('PollingErrorsAlarm', (name) => this.mappingMetric(name, 'PollingErrorCount'), 'PollingErrorCount', t.pollingErrors ?? 1,
        (group) => `The mappings of ${group.join(', ')} failed to poll their topics (PollingErrorCount). Check each mapping's LastProcessingResult: aws lambda get-event-source-mapping --uuid <id> (README, "Operations").`);
    }
    addSums('RecordsDeadLetteredAlarm', (name) => this.runtimeMetric('RecordsDeadLettered', name), 'RecordsDeadLettered', t.recordsDeadLettered ?? 1,
      (group) => `Records of ${group.join(', ')} exhausted their retries and were dead-lettered.`);
  }
}

/**
 * esbuild locally (no Docker), minified. Only the AWS SDK's client packages are left to the
 * Lambda runtime, which provides them; their helpers (credential providers, utilities) are not
 * promised, so everything else is bundled. No source maps: Node applies them on every read of
 * `error.stack`, which each dead letter does (measured in `npm run bench`, failure-path).
 */
export function bundlingOptions(): nodejs.BundlingOptions {
  return { minify: true, sourceMap: false, target: 'node24', externalModules: ['@aws-sdk/client-*'], format: nodejs.OutputFormat.CJS, forceDockerBundling: false };
}

/** The functions' NODE_OPTIONS: source maps read only when the bundles carry them. */
export function nodeOptions(): Record<string, string> {
  return bundlingOptions().sourceMap ? { NODE_OPTIONS: '--enable-source-maps' } : {};
}

/** What `ISecret.grantRead` allows, for the Secrets Manager endpoint's policy. */
export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];

/**
 * kms:Decrypt on the secret's customer-managed key, only through Secrets Manager. `ISecret.grantRead`
 * does not add it for a key imported by ARN, so it is granted here explicitly.
 */
export function grantSecretKeyDecrypt(secret: secretsmanager.ISecret, grantee: iam.IGrantable): void {
  if (!secret.encryptionKey) return;
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['kms:Decrypt'], resources: [secret.encryptionKey.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(secret).region}.amazonaws.com` } },
  }));
}

/** An endpoint policy statement as narrow as the IAM grant it lets through (identity policies still apply). */
export function endpointStatement(actions: string[], resources: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ principals: [new iam.StarPrincipal()], actions, resources });
}

/**
 * The Lambda and STS endpoints' statement: the Lambda service principal calls them for an
 * on-demand mapping. Lambda guide ("Configuring your self-managed Apache Kafka cluster and
 * network for Lambda", and the MSK page): narrower policies stop the mapping, "so "Resource": "*"
 * is required in these policies"; the guide's example names the principal lambda.amazonaws.com.
 */
function lambdaServiceEndpointStatement(action: string): iam.PolicyStatement {
  return new iam.PolicyStatement({ principals: [new iam.ServicePrincipal('lambda.amazonaws.com')], actions: [action], resources: ['*'] });
}

/** The port of an http(s) URL: the one it names, else the scheme's. @returns undefined for a token or another scheme */
function urlPort(uri: string): number | undefined {
  if (Token.isUnresolved(uri) || !URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** ARNs of an MSK cluster's topics and groups, for IAM. */
export function mskResourceArns(clusterArn: string) {
  if (Token.isUnresolved(clusterArn) || !/^arn:aws[a-z-]*:kafka:[^:]+:\d{12}:cluster\/[^/]+\/[^/]+$/.test(clusterArn)) {
    throw new MappingSettingsError(`clusterArn "${clusterArn}" is not an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>).`);
  }
  const base = clusterArn.replace(':cluster/', ':');
  const at = (kind: string) => (name: string) => base.replace(/:([^:]*)$/, `:${kind}/$1/${name}`);
  return { topic: at('topic'), group: at('group') };
}

