// What the constructs (lib/), the functions (functions/) and the local tools (local/) must agree
// on, in one place: the environment the constructs set and the functions read, where dead letters
// live in the bucket, the time kept back before a deadline, the diagnostics channels local tools
// subscribe to, the replay's codec names, and the names of what a replayed record and a re-sent
// dead letter carry (the replay writes them, the runtime and the local tools read them back). Constants only: nothing here loads a library, so the
// constructs can use it at synth and the handler bundles keep only what they read.

/** The environment variables the constructs set and the functions read. */
export const ENV = {
  /** The dead-letter queue's URL (consumer and replay). */
  deadLetterQueueUrl: 'DLQ_URL',
  /** The bucket for dead letters over SQS's 1 MiB (consumer). */
  deadLetterBucket: 'DLQ_BUCKET',
  /** The construct's `consumerGroupId`; each topic's mapping reads as `<id>-<topic>` (consumer). */
  consumerGroup: 'KAFKA_CONSUMER_GROUP',
  /** `true` or `false`: whether the mapping honours partial batch responses (consumer). */
  reportBatchItemFailures: 'REPORT_BATCH_ITEM_FAILURES',
  /** Bootstrap servers, `host:port[,host:port…]` (replay). */
  kafkaBrokers: 'KAFKA_BROKERS',
  /** How the replay authenticates: see `KafkaAuth` (replay). */
  kafkaAuth: 'KAFKA_AUTH',
  /** The Secrets Manager secret with `{username, password}` for SASL/SCRAM (replay). */
  kafkaSaslSecretArn: 'KAFKA_SASL_SECRET_ARN',
  /** `false` turns the replay's idempotent producer off (local mock brokers only). */
  kafkaIdempotentProducer: 'KAFKA_IDEMPOTENT_PRODUCER',
  /** The codec the replay compresses with: one of {@link KAFKA_COMPRESSION_CODECS}. */
  kafkaCompression: 'KAFKA_COMPRESSION',
  /** The bucket of the consumer's S3 on-failure destination, which `source: "s3"` replays (replay). */
  onFailureBucket: 'ON_FAILURE_BUCKET',
  /** The topics the replay may produce to, comma separated. */
  replayAllowedTopics: 'REPLAY_ALLOWED_TOPICS',
  /** Replays allowed per record. */
  replayMaxCount: 'REPLAY_MAX_COUNT',
  /** The idempotency ledger's DynamoDB table; set only when the construct's `idempotency` is on (consumer). */
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  /**
   * The ledger's expiry in whole seconds, the construct's `idempotency.expiry`; the runtime's
   * default `expirySeconds` (consumer, set with {@link ENV.idempotencyTable}).
   */
  idempotencyExpirySeconds: 'IDEMPOTENCY_EXPIRY_SECONDS',
  /**
   * The outage breaker's first cool-down, whole seconds; set (with
   * {@link ENV.breakerMaxCoolDownSeconds}) only when the construct's `breaker` is on, which is
   * what turns the runtime's outage handling on (consumer and resumer).
   */
  breakerCoolDownSeconds: 'BREAKER_COOL_DOWN_SECONDS',
  /** The longest cool-down the breaker backs off to, whole seconds (consumer and resumer). */
  breakerMaxCoolDownSeconds: 'BREAKER_MAX_COOL_DOWN_SECONDS',
  /** The consumer function whose mappings the resumer re-enables (resumer). */
  breakerFunctionName: 'BREAKER_FUNCTION_NAME',
  /** What becomes of a record that exhausts its retries: one of {@link FAILURE_MODES} (consumer). */
  failureMode: 'FAILURE_MODE',
  /** The DynamoDB table of the parked keys, with `FAILURE_MODE` `park-key` (consumer and replay). */
  parkedKeysTable: 'PARKED_KEYS_TABLE',
  /** Powertools' service name (metrics dimension, log field). */
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** Powertools' CloudWatch metrics namespace. */
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
} as const;

/**
 * Every variable the consumer runtime reads. The construct sets each one and refuses them in
 * its `environment` prop: its grants, alarms and dashboard are made for the values it sets.
 */
export const CONSUMER_ENV = [
  ENV.deadLetterQueueUrl,
  ENV.deadLetterBucket,
  ENV.consumerGroup,
  ENV.reportBatchItemFailures,
  ENV.idempotencyTable,
  ENV.idempotencyExpirySeconds,
  ENV.breakerCoolDownSeconds,
  ENV.breakerMaxCoolDownSeconds,
  ENV.failureMode,
  ENV.parkedKeysTable,
  ENV.serviceName,
  ENV.metricsNamespace,
] as const;
export type ConsumerEnvName = (typeof CONSUMER_ENV)[number];

/** Where the consumer writes oversized dead letters in the bucket; IAM grants cover this prefix only. */
export const DEAD_LETTER_PREFIX = 'dead-letters/';

/**
 * Where Lambda files the objects of an S3 on-failure destination (`aws/lambda/<mapping UUID>/…`);
 * the replay lists, reads and deletes under this prefix only, and IAM grants cover it only.
 */
export const ON_FAILURE_PREFIX = 'aws/lambda/';

/** The consumer runtime's default `timeSafetyMarginMs`; the construct sizes the minimum timeout with it. */
export const DEFAULT_TIME_SAFETY_MARGIN_MS = 3_000;

/** The CloudWatch namespace of the functions' metrics when none is configured. */
export const DEFAULT_METRICS_NAMESPACE = 'KafkaConsumer';

/** Node diagnostics channels the runtime publishes on (no-ops without subscribers), for local tools. */
export const CHANNELS = {
  /** Each dead-letter envelope SQS accepted. */
  deadLetterSent: 'kafka-lambda:dead-letter-sent',
  /** Each invocation's `{requestId, stats}`, per topic. */
  invocationStats: 'kafka-lambda:invocation-stats',
} as const;

/** The codecs Kafka defines, as `KAFKA_COMPRESSION` and the replay's `compression` prop name them. */
export const KAFKA_COMPRESSION_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSION_CODECS)[number];

/**
 * The headers the replay adds to each record it puts back on Kafka: the runtime reads the count
 * back (a record replayed `REPLAY_MAX_COUNT` times stays in the queue), local tools the original
 * coordinates. Replayed records carry them on the topic and the README documents them.
 */
export const REPLAY_COUNT_HEADER = 'x-dlq-replay-count';
export const ORIGINAL_OFFSET_HEADER = 'x-dlq-original-offset';
export const ORIGINAL_PARTITION_HEADER = 'x-dlq-original-partition';
/** The record's original topic: `dlq replay --target-topic` can put the copy on another one. */
export const ORIGINAL_TOPIC_HEADER = 'x-dlq-original-topic';
/** The record's original Kafka timestamp (the replayed record gets a fresh one). */
export const ORIGINAL_TIMESTAMP_HEADER = 'x-dlq-original-timestamp';
/**
 * On each copy the replay produces to release a parked key (park-key): the key's park epoch. The
 * consumer runs a copy whose epoch is its key's current one even while the key is parked.
 */
export const PARK_EPOCH_HEADER = 'x-dlq-park-epoch';

/** The OpenTelemetry tracer (instrumentation scope) the runtime's and the replay's spans come from: the library's name. */
export const TRACER_NAME = 'kafka-lambda-consumers';

/** Message attribute of a dead letter the replay sends again: epoch ms of its first enqueue (SentTimestamp of the original). */
export const FIRST_SENT_ATTRIBUTE = 'dlqFirstSentAt';
/**
 * Room the runtime keeps in each dead letter under SQS's limit for {@link FIRST_SENT_ATTRIBUTE},
 * so that one the replay re-enqueues still fits.
 */
export const RENEWAL_ATTRIBUTES_BYTES = 64;

/**
 * The idempotency ledger's DynamoDB table, as the construct creates it and the runtime reads and
 * writes it: a string partition key, and an expiry attribute (epoch seconds) that the table's TTL
 * deletes by and the runtime also checks itself (TTL deletes late, up to days).
 */
export const IDEMPOTENCY_TABLE = {
  partitionKey: 'id',
  expiryAttribute: 'expiresAt',
} as const;

/**
 * How long the ledger remembers that a record's work is done: the runtime writes `expiresAt` as
 * now plus this. The construct's default `idempotency.expiry` (which it passes in
 * `IDEMPOTENCY_EXPIRY_SECONDS`) and the runtime's when that is not set. 14 days, SQS's longest retention: a dead letter replayed as late as its queue
 * keeps it is still recognised (a mapping's `maxRecordAge` is at most 7 days).
 */
export const DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS = 14 * 24 * 60 * 60;

/** The DynamoDB actions the runtime's ledger calls on its table; the construct grants exactly these. */
export const IDEMPOTENCY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'] as const;

/**
 * The outage breaker's state lives on the event source mapping it pauses, as this tag (Lambda
 * tags event source mappings: TagResource / ListTags), so that the consumer, which opens it, and
 * the resumer, which re-enables the mapping, need no store of their own. Its value is written and
 * read by src/breaker only.
 */
export const BREAKER_TAG = 'kafka-consumers:breaker';

/** The breaker's first cool-down when the construct's `breaker.coolDown` is not given: 1 minute. */
export const DEFAULT_BREAKER_COOL_DOWN_SECONDS = 60;
/** The longest cool-down, doubling from the first, when `breaker.maxCoolDown` is not given: 15 minutes. */
export const DEFAULT_BREAKER_MAX_COOL_DOWN_SECONDS = 15 * 60;

/**
 * The Lambda API actions the consumer (opening its breaker) and the resumer (re-enabling) call;
 * the construct grants exactly these. ListEventSourceMappings takes no resource (`*`); the others
 * are granted on the consumer's own mappings only.
 */
export const BREAKER_ACTIONS = [
  'lambda:ListEventSourceMappings',
  'lambda:UpdateEventSourceMapping',
  'lambda:ListTags',
  'lambda:TagResource',
] as const;

/**
 * What becomes of a record that exhausts its retries: `dead-letter` (to the DLQ, its partition
 * moves on), `block` (its partition is redelivered from it until it succeeds), `park-key` (to the
 * DLQ, and the later records of its key in its partition wait behind it until the replay releases it).
 */
export const FAILURE_MODES = ['dead-letter', 'block', 'park-key'] as const;
/** One of {@link FAILURE_MODES}: kafkaConsumer's and KafkaConsumer's `failureMode`. */
export type FailureMode = (typeof FAILURE_MODES)[number];

/** Where parked records wait in the dead-letter bucket (park-key), by group, topic, partition and key; IAM grants cover this prefix only. */
export const PARKED_RECORDS_PREFIX = 'parked/';

/**
 * The actions the consumer needs for park-key, which the construct grants exactly: on the parked
 * keys' table (reads the parked state of a batch's keys, parks a key, appends a parked record),
 * and `s3:PutObject` on {@link PARKED_RECORDS_PREFIX} in the dead-letter bucket (the parked records).
 */
export const PARKING_CONSUMER_ACTIONS = {
  table: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
  parkedRecords: ['s3:PutObject'],
} as const;

/**
 * The actions the replay needs to release a parked key, which the construct grants exactly: on the
 * parked keys' table (reads the key; records its progress and marks it released with conditional
 * updates: a released item is kept, never deleted, so that the key's next epoch follows it), and on
 * the dead-letter bucket's {@link PARKED_RECORDS_PREFIX} (lists it, reads and deletes the parked
 * records). `s3:ListBucket` is granted on the bucket with an `s3:prefix` condition; the others on
 * `parked/*`. On MSK with IAM, `consumerGroup`: the consumer group's committed offsets (OffsetFetch),
 * on the mapping's group.
 */
export const PARKING_REPLAY_ACTIONS = {
  table: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
  listParkedRecords: ['s3:ListBucket'],
  parkedRecords: ['s3:GetObject', 's3:DeleteObject'],
  consumerGroup: ['kafka-cluster:DescribeGroup'],
} as const;
