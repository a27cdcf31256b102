// The props of KafkaConsumer and the cluster it reads, every optional one with its @default.
import type { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { ClusterVpcProps } from './cluster-network.js';
import type { PollerMode, StartingPosition } from '../mapping/mapping-settings.js';
import type { RetryOptions } from '../runtime/retry.js';
import type { FailureMode } from '../contract/index.js';

/** An Amazon MSK cluster, reached with IAM auth; give its `vpc` unless the brokers are public. */
export interface MskCluster extends ClusterVpcProps {
  /** Tells the cluster kinds apart. */
  readonly kind: 'msk';
  /** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>` */
  readonly clusterArn: string;
  /** The cluster's IAM bootstrap servers, for the replay function (the mapping finds them itself). @default none */
  readonly bootstrapServers?: string[];
}

/** A self-managed Apache Kafka cluster (or Redpanda, Confluent, …). */
export interface SelfManagedCluster extends ClusterVpcProps {
  /** Tells the cluster kinds apart. */
  readonly kind: 'self-managed';
  /** The brokers, `host:port`, for the mappings and the replay function. */
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

/** The cluster a consumer reads, told apart by `kind`. */
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

/**
 * The idempotency ledger: the DynamoDB table where the runtime records each record whose work is
 * done, so that a redelivery, a retried batch or a replayed dead letter of it is skipped.
 */
export interface IdempotencyOptions {
  /**
   * Your table instead of a created one: partition key `id` (a string), TTL on `expiresAt`
   * (epoch seconds), no sort key. A `TableV2`, a `Table`, or one imported by name or ARN;
   * the function gets exactly the ledger's actions on it, and the encrypt and decrypt it needs
   * on its `encryptionKey` when that is known (an imported key's policy is yours).
   * @default a table created with the consumer: on-demand, TTL on `expiresAt`, point-in-time
   * recovery, encrypted like the queues (DynamoDB's AWS owned key, or `encryptionKey`), retained
   * when the stack is deleted
   */
  readonly table?: dynamodb.ITable;
  /**
   * How long the ledger remembers that a record's work is done, in whole seconds: the construct
   * passes it to the handler in `IDEMPOTENCY_EXPIRY_SECONDS`, the runtime's default
   * `expirySeconds` (leave that option out, or it wins over this one). A record that comes
   * back after its entry expired runs again: synth refuses an expiry shorter than `maxRecordAge`
   * or the function's `timeout` (redeliveries come that late), and warns when it is shorter than
   * `deadLetterRetention` (a dead letter replayed after its record's entry expired runs again).
   * @default 14 days: the longest dead-letter retention, so that every dead letter the queue still
   * holds is recognised when replayed
   */
  readonly expiry?: Duration;
}

/**
 * The outage breaker's cool-downs: how long a paused mapping waits before its resumer re-enables
 * it. Whole seconds; the resumer looks once a minute, so a mapping resumes at its first look after
 * the cool-down.
 */
export interface BreakerOptions {
  /**
   * The first cool-down, at least 1 second. Each time the breaker opens again before it closed
   * (the resumed mapping met the outage again), the cool-down doubles, up to `maxCoolDown`; the
   * runtime draws each one between 80 % and 120 % of that, so that consumers paused by the same
   * outage do not all come back at once.
   * @default 1 minute
   */
  readonly coolDown?: Duration;
  /**
   * The longest cool-down, from `coolDown` to 12 hours, and shorter than `maxRecordAge` when that
   * is set (Lambda skips records older than it, and a paused mapping's records age).
   * @default 15 minutes
   */
  readonly maxCoolDown?: Duration;
}

/** What a `KafkaConsumer` reads, how its mappings and function run, and where its dead letters and alarms go. */
export interface KafkaConsumerProps {
  /** The cluster the mappings read: {@link MskCluster} or {@link SelfManagedCluster}. */
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
  /** Where a new mapping starts reading: TRIM_HORIZON, LATEST or AT_TIMESTAMP. @default 'TRIM_HORIZON' */
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
  /** The handler's exported name in `entry`. @default 'handler' */
  readonly handler?: string;
  /**
   * The retry policy the handler's `kafkaConsumer({ retry })` uses, so synth can check that the
   * timeout leaves room for it. @default the runtime's defaults (3 attempts, 100 ms – 2 s)
   */
  readonly recordRetry?: RetryOptions;
  /** The function's memory, 128–10,240 MB. @default 1024 MB */
  readonly memorySize?: number;
  /** The function's timeout, at most 14 minutes, with room for `recordRetry`'s backoff. @default 60 s */
  readonly timeout?: Duration;
  /**
   * Effectively once: the runtime skips records whose work is already done (across redeliveries,
   * retried batches, restarts and dead-letter replays), recorded in a DynamoDB table.
   * `true` creates the table; {@link IdempotencyOptions} give your own table or another expiry.
   * The handler turns it on with its own `idempotency: idempotencyLedger()` (from
   * `kafka-lambda-consumers/runtime/idempotency`); the construct sets `IDEMPOTENCY_TABLE` and
   * `IDEMPOTENCY_EXPIRY_SECONDS` and grants the function exactly the ledger's actions on the table.
   * @default false: no ledger, no table
   */
  readonly idempotency?: boolean | IdempotencyOptions;
  /**
   * The outage breaker. When the handler's records fail because what it writes to is down (errors
   * the runtime's `isOutage` classifies so, or, when the handler sets it, `consecutiveFailures` in a row),
   * the runtime dead-letters none of them: it has their partitions redelivered from the first
   * unfinished record and pauses the mapping they came from (`Enabled: false`). A resumer function,
   * run every minute, re-enables it after the cool-down; if the outage is still there the breaker
   * opens again with a longer cool-down. The records wait in Kafka, in order, instead of filling
   * the dead-letter queue. The construct sets `BREAKER_COOL_DOWN_SECONDS` and
   * `BREAKER_MAX_COOL_DOWN_SECONDS` (which turn the runtime's outage handling on), creates the
   * resumer and its schedule, grants both functions the Lambda calls on this consumer's own
   * mappings, and alarms when a mapping stays paused (`ConsumerPausedAlarm-<topic>`).
   *
   * On by default: without it one outage of the downstream turns every record it touches into a
   * dead letter, out of order and each needing a replay, while the mapping keeps invoking a
   * function that cannot succeed. It costs a function run once a minute (about 44,000 short
   * invocations a month) and one CloudWatch metric per topic. `false` creates none of it, and
   * outage errors are dead-lettered like any other.
   * @default true, with {@link BreakerOptions}' cool-downs
   */
  readonly breaker?: boolean | BreakerOptions;
  /**
   * What becomes of a record that exhausts its retries (sets `FAILURE_MODE`; docs/failure-modes.md):
   * - `'dead-letter'`: to the dead-letter queue; its partition moves on.
   * - `'block'`: never skipped: its partition is redelivered from it, invocation after invocation,
   *   until it succeeds; the `PartitionBlockedAlarm-<topic>` alarm says so. Lambda must then never
   *   skip a batch, so synth refuses on-demand `pollerMode`, `retryAttempts` other than -1, an
   *   `onFailure` destination, `maxRecordAge`, `reportBatchItemFailures: false` and
   *   `schemaRegistryConfig`; no on-failure queue is created.
   * - `'park-key'`: dead-lettered, and the later records of its key in its partition are parked
   *   (in the dead-letter bucket, under `parked/`, the keys in a DynamoDB table: the idempotency
   *   ledger's when `idempotency` is on) until the replay releases them in order.
   * @default 'dead-letter'
   */
  readonly failureMode?: FailureMode;
  /** The function's reserved concurrency. @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Extra environment for the handler. The variables the runtime reads are the construct's
   * (`DLQ_URL`, `DLQ_BUCKET`, `KAFKA_CONSUMER_GROUP`, `REPORT_BATCH_ITEM_FAILURES`,
   * `IDEMPOTENCY_TABLE`, `IDEMPOTENCY_EXPIRY_SECONDS`, `BREAKER_COOL_DOWN_SECONDS`,
   * `BREAKER_MAX_COOL_DOWN_SECONDS`, `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_METRICS_NAMESPACE`): synth refuses them here and
   * names the prop that sets each. @default none
   */
  readonly environment?: Record<string, string>;
  /** How long dead letters are kept, 1 min – 14 days. @default 14 days */
  readonly deadLetterRetention?: Duration;
  /**
   * Expiry of oversized dead letters in S3 (`dead-letters/`; parked records, `parked/`, never
   * expire): at least `deadLetterRetention` plus a day, so that no pointer in the queue outlives
   * its object. @default 30 days
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
  /** Thresholds of the alarms. @default see {@link ConsumerAlarmThresholds} */
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
   * (docs/deploying.md, "Event source mapping capabilities"). @default an AWS-owned key
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
