// KafkaConsumer: the composition of its parts. Props in kafka-consumer-props.ts, checks in
// validation.ts, the event sources in event-sources.ts, IAM in grants.ts, the network in
// cluster-network.ts, alarms in alarms.ts, the outage breaker's resumer in breaker-resumer.ts, reads of aws-cdk-lib internals in cdk-internals.ts.
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { addConsumerAlarms, mappingMetric, offsetLagMetric, runtimeMetric } from './alarms.js';
import { BreakerResumer, breakerEnvironment } from './breaker-resumer.js';
import { bundlingOptions, nodeOptions } from './bundling.js';
import {
  mappingTopicAndId,
  mappingsUnder,
  onFailureBucketOf,
  onFailureTargetOf,
  schemaRegistryConfigOf,
  schemaValidationAttributesOf,
} from './cdk-internals.js';
import { acknowledgeDeadLetterStorage } from './cdk-nag-acknowledgements.js';
import { ClusterNetwork, MSK_BROKER_PORTS, brokerPortsOf } from './cluster-network.js';
import { mappingSettingsOf, propNames } from './consumer-settings.js';
import { ConstructPropsError } from './errors.js';
import { kafkaEventSource, onFailureService } from './event-sources.js';
import {
  allowFilterDecryption,
  allowOnDemandPollers,
  allowOnFailureDestination,
  grantConfluentRegistry,
  grantDeadLetterWrite,
  grantFailureTopicWrite,
  grantGlueSchemas,
  grantIdempotencyLedger,
  grantMskRead,
  grantSelfManagedAccess,
} from './grants.js';
import type { KafkaCluster, KafkaConsumerProps } from './kafka-consumer-props.js';
import { validateConsumerProps, type CheckedConsumerProps } from './validation.js';
import { validateIdempotencyTableRegion } from './idempotency-validation.js';
import { validateFailureTopic, validateSchemaValidationAttributes } from './mapping-validation.js';
import { MAX_RETRY_ATTEMPTS, effectiveMappingSettings, type EffectiveMappingSettings } from '../mapping/mapping-settings.js';
import { DEAD_LETTER_PREFIX, ENV, type FailureMode } from '../contract/index.js';
import { grantParkingConsumer, ledgerSchemaTable, pinNeverSkip, validateFailureMode } from './failure-modes.js';

/**
 * A Kafka consumer on Lambda: the function (bundled with esbuild, Node.js 24, ARM64), one
 * event source mapping per topic, the dead-letter queue and its overflow bucket, the
 * mapping's on-failure queue, least-privilege IAM, and alarms.
 */
export class KafkaConsumer extends Construct {
  /** The consumer function, with the user's handler. */
  readonly function: nodejs.NodejsFunction;
  /** Where the runtime sends the records it gave up on; `DeadLetterReplay` replays them. */
  readonly deadLetterQueue: sqs.Queue;
  /** Where the runtime puts dead letters too large for SQS (the queue holds a pointer). */
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
  /** The alarms created (docs/operations.md, "The alarms"). */
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The CloudWatch namespace of the runtime's metrics. */
  readonly metricsNamespace: string;
  /** The `service` dimension of the runtime's metrics. */
  readonly serviceName: string;
  /** What the mappings do, defaults filled in. */
  readonly settings: EffectiveMappingSettings;
  /** One event source per topic, in the order of `topics`. */
  readonly eventSources: Array<sources.ManagedKafkaEventSource | sources.SelfManagedKafkaEventSource> = [];
  /** The cluster as given, with the security group created for its VPC when none was. */
  readonly cluster: KafkaCluster;
  /** The cluster's VPC, security group and endpoints. @default none when the cluster has no VPC */
  readonly network?: ClusterNetwork;
  /** The key of the queues and bucket. @default none: SQS- and S3-managed encryption */
  readonly encryptionKey?: kms.IKey;
  /** `failureMode`, defaulted: what becomes of a record that exhausts its retries. */
  readonly failureMode: FailureMode;
  /**
   * park-key's table of parked keys: the idempotency ledger's when `idempotency` is on, else one
   * of its own. @default none: `failureMode` is not 'park-key'
   */
  readonly parkedKeysTable?: dynamodb.ITable;
  /** The idempotency ledger's table, created or given. @default none: `idempotency` is off */
  readonly idempotencyTable?: dynamodb.ITable;
  /**
   * The outage breaker's resumer, run every minute; invoke it with `{"breaker": "status"}`,
   * `{"breaker": "open"}` or `{"breaker": "close"}` (and `"topic"` for one mapping) to see or force
   * the breaker (docs/operations.md). @default none: `breaker` is false
   */
  readonly breakerFunction?: nodejs.NodejsFunction;
  /** Each topic's mapping id (CloudFormation `Ref`, the UUID). */
  readonly #mappingIds = new Map<string, string>();

  constructor(scope: Construct, id: string, props: KafkaConsumerProps) {
    super(scope, id);
    this.settings = effectiveMappingSettings(mappingSettingsOf(props), propNames(props));
    // Before the breaker's check of maxRecordAge: block refuses maxRecordAge outright, and should say so.
    this.failureMode = validateFailureMode(props, this.settings);
    const checked = validateConsumerProps(props, id);
    this.metricsNamespace = checked.metricsNamespace;
    this.serviceName = checked.serviceName;
    this.encryptionKey = props.encryptionKey;
    this.network = this.#network(props, id);
    this.cluster = this.network ? { ...props.cluster, securityGroup: this.network.securityGroup } : props.cluster;

    const queueEncryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    // Both queues outlive the stack, as the bucket does: deleting a stack (or replacing a queue)
    // must not delete records nobody has replayed yet.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...queueEncryption,
      enforceSSL: true,
      retentionPeriod: checked.deadLetterRetention,
      visibilityTimeout: Duration.minutes(15),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Block mode has no destination: with one, Lambda caps infinite retries at 10 and skips the batch.
    if (!props.onFailure && this.failureMode !== 'block') {
      this.onFailureQueue = new sqs.Queue(this, 'OnFailureQueue', {
        ...queueEncryption,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }
    this.deadLetterBucket = new s3.Bucket(this, 'DeadLetterBucket', {
      ...(props.encryptionKey
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: props.encryptionKey }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Oversized dead letters only: parked records (park-key) must live as long as their key is parked.
      lifecycleRules: [{ prefix: DEAD_LETTER_PREFIX, expiration: checked.deadLetterObjectExpiration }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeDeadLetterStorage([this.deadLetterQueue, ...(this.onFailureQueue ? [this.onFailureQueue] : [])], this.deadLetterBucket);

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handler ?? 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: checked.timeout,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      bundling: bundlingOptions(),
      environment: {
        [ENV.deadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [ENV.deadLetterBucket]: this.deadLetterBucket.bucketName,
        [ENV.serviceName]: this.serviceName,
        [ENV.metricsNamespace]: this.metricsNamespace,
        ...nodeOptions(),
        ...(props.consumerGroupId ? { [ENV.consumerGroup]: props.consumerGroupId } : {}),
        ...props.environment, // none of the construct's own: validation refused them
        // Lambda ignores partial responses of a mapping without them: the runtime must then fail the batch instead.
        [ENV.reportBatchItemFailures]: String(this.settings.reportBatchItemFailures),
        [ENV.failureMode]: this.failureMode,
      },
    });
    grantDeadLetterWrite(this, this.deadLetterQueue, this.deadLetterBucket, props.encryptionKey);
    this.idempotencyTable = this.#idempotencyLedger(props, checked, id);
    if (this.failureMode === 'park-key') {
      this.parkedKeysTable = this.idempotencyTable ?? ledgerSchemaTable(this, 'ParkedKeysTable', props.encryptionKey);
      grantParkingConsumer(this.function, { table: this.parkedKeysTable, bucket: this.deadLetterBucket });
      this.function.addEnvironment(ENV.parkedKeysTable, this.parkedKeysTable.tableName);
    }

    for (const topic of props.topics) {
      const source = kafkaEventSource({ ...props, cluster: this.cluster }, this.settings, topic, this.onFailureQueue);
      this.function.addEventSource(source);
      this.eventSources.push(source);
    }
    for (const mapping of mappingsUnder(this.function)) {
      const { topic, id: mappingId } = mappingTopicAndId(mapping);
      this.#mappingIds.set(topic, mappingId);
      if (this.failureMode === 'block') pinNeverSkip(mapping);
    }
    this.breakerFunction = this.#breaker(checked, props, id);
    if (props.cluster.kind === 'msk') grantMskRead(this, props.cluster.clusterArn, props.topics, props.consumerGroupId);
    this.onFailureBucket = this.#allowOnFailureDestination(props);
    this.#allowSchemaRegistry(props.schemaRegistryConfig);
    if (props.filterEncryption) allowFilterDecryption(this, this, props.filterEncryption, id);
    if (this.settings.pollerMode === 'on-demand') allowOnDemandPollers(this);
    if (this.cluster.kind === 'self-managed') grantSelfManagedAccess(this, this.cluster);
    addConsumerAlarms(this, props, props.alarmThresholds ?? {}, props.alarmTopic);
  }

  /** A metric the runtime publishes (EMF), by topic. */
  runtimeMetric(name: string, topic: string, statistic = 'Sum'): cloudwatch.Metric {
    return runtimeMetric(this.metricsNamespace, this.serviceName, name, topic, statistic);
  }

  /** The mappings' OffsetLag, by topic. */
  offsetLagMetric(): cloudwatch.Metric {
    return offsetLagMetric(this.function);
  }

  /**
   * A metric of one topic's mapping (Lambda guide, "Event source mapping metrics": AWS/Lambda,
   * dimension EventSourceMappingUUID), published only for the groups in its MetricsConfig.
   */
  mappingMetric(topic: string, name: string, statistic = 'Sum'): cloudwatch.Metric {
    const id = this.#mappingIds.get(topic);
    if (id === undefined)
      throw new ConstructPropsError(
        'topic',
        `mappingMetric: "${topic}" is not one of this consumer's topics (${[...this.#mappingIds.keys()].join(', ')}).`,
      );
    return mappingMetric(id, name, statistic);
  }

  /**
   * The on-failure destination's rules and grants, read from the first mapping as synthesized
   * (aws-cdk-lib's destination classes keep what they bind private). Returns an S3 destination's bucket.
   */
  #allowOnFailureDestination(props: KafkaConsumerProps): s3.IBucket | undefined {
    const target = onFailureTargetOf(mappingsUnder(this.function)[0]!);
    if (!target) return undefined;
    const service = onFailureService(props.onFailure);
    if (service === 'kafka') {
      grantFailureTopicWrite(this, props.cluster, validateFailureTopic(target, props.topics, this.settings.pollerMode));
      return undefined;
    }
    allowOnFailureDestination(this, service, target);
    // The user's bucket, with its encryption key, so the replay can read what the mapping wrote.
    return props.onFailure instanceof sources.S3OnFailureDestination ? onFailureBucketOf(props.onFailure) : undefined;
  }

  /**
   * The schema registry's rules, grants and network, read from the first mapping as synthesized.
   * aws-cdk-lib grants Glue's GetRegistry and GetSchemaVersion (on schemas in the stack's region
   * and account) and the read of a Confluent registry's secret (without an imported key's decrypt).
   */
  #allowSchemaRegistry(registry: lambda.ISchemaRegistry | undefined) {
    if (!registry) return;
    const config = schemaRegistryConfigOf(mappingsUnder(this.function)[0]!)!;
    validateSchemaValidationAttributes(schemaValidationAttributesOf(config));
    if (registry instanceof sources.GlueSchemaRegistry) grantGlueSchemas(this, this, config.schemaRegistryUri!, registry);
    else if (registry instanceof sources.ConfluentSchemaRegistry) grantConfluentRegistry(this, config.schemaRegistryUri!, registry);
  }

  /**
   * The idempotency ledger's table (created, unless given), its grants, `IDEMPOTENCY_TABLE` and
   * `IDEMPOTENCY_EXPIRY_SECONDS`.
   * The function runs outside the cluster's VPC (only the mapping and the replay run in it), so
   * it reaches DynamoDB's public endpoint and needs no VPC endpoint.
   */
  #idempotencyLedger(props: KafkaConsumerProps, checked: CheckedConsumerProps, id: string): dynamodb.ITable | undefined {
    if (!props.idempotency || !checked.idempotencyExpiry) return undefined;
    const given = typeof props.idempotency === 'object' ? props.idempotency.table : undefined;
    if (given) validateIdempotencyTableRegion(given, Stack.of(this));
    const table = given ?? ledgerSchemaTable(this, 'IdempotencyTable', props.encryptionKey);
    grantIdempotencyLedger(this, table);
    this.function.addEnvironment(ENV.idempotencyTable, table.tableName);
    const expiry = checked.idempotencyExpiry.toSeconds();
    // The runtime's default expirySeconds: the expiry is given once, here, and checked here.
    this.function.addEnvironment(ENV.idempotencyExpirySeconds, String(expiry));
    if (expiry < checked.deadLetterRetention.toSeconds()) {
      Annotations.of(this).addWarningV2(
        'kafka-consumers:idempotencyExpiryBelowDeadLetterRetention',
        `${id}: idempotency.expiry (${expiry} s) is shorter than deadLetterRetention (${checked.deadLetterRetention.toSeconds()} s): a record that was dead-lettered, then completed by a redelivery, runs again when its dead letter is replayed after its ledger entry expired. Give an expiry of at least the retention (the default, 14 days, covers any), or acknowledge this warning if replays come sooner.`,
      );
    }
    return table;
  }

  /** The breaker's cool-downs on the function, and its resumer, when `breaker` is on. */
  #breaker(checked: CheckedConsumerProps, props: KafkaConsumerProps, id: string): nodejs.NodejsFunction | undefined {
    if (!checked.breaker) return undefined;
    const retries = props.retryAttempts;
    // 'block' has no on-failure destination: its -1 is infinite.
    if (retries !== undefined && props.failureMode !== 'block' && (retries === -1 || retries < MAX_RETRY_ATTEMPTS)) {
      Annotations.of(this).addWarningV2(
        'kafka-consumers:breakerWithFewRetries',
        `${id}: retryAttempts is ${retries}${retries === -1 ? ' (which Lambda caps at 10 with an on-failure destination)' : ''}, and the outage breaker redelivers an outage's records (once per cool-down while it lasts): AWS does not document whether those redeliveries count as retries, and if they do, a long outage sends the batch to the on-failure destination, skipped. Leave retryAttempts out (the breaker then sets ${MAX_RETRY_ATTEMPTS}), or acknowledge this warning.`,
      );
    }
    for (const [name, value] of Object.entries(breakerEnvironment(checked.breaker))) this.function.addEnvironment(name, value);
    return new BreakerResumer(this, 'Breaker', {
      consumerFunction: this.function,
      mappingIds: [...this.#mappingIds.values()],
      breaker: checked.breaker,
      metricsNamespace: this.metricsNamespace,
      serviceName: this.serviceName,
    }).function;
  }

  /** The cluster's network, when it has a VPC; without one, a warning if an MSK mapping's destination needs a way out. */
  #network(props: KafkaConsumerProps, id: string): ClusterNetwork | undefined {
    const cluster = props.cluster;
    if (!cluster.vpc) {
      const service = onFailureService(props.onFailure);
      // A Kafka failure topic lives in the cluster and needs no way out.
      if (cluster.kind === 'msk' && service !== 'kafka') {
        Annotations.of(this).addWarningV2(
          'kafka-consumers:mskWithoutVpc',
          `${id}: the MSK cluster was given without its vpc, so nothing gives the mapping's on-failure destination (${service.toUpperCase()}) a way out of the cluster's VPC: AWS requires a VPC endpoint for it there. Give cluster.vpc (app: -c vpcId=… -c subnetIds=…), or create the endpoint yourself.`,
        );
      }
      return undefined;
    }
    const mtls =
      cluster.kind === 'self-managed' && cluster.authenticationMethod === sources.AuthenticationMethod.CLIENT_CERTIFICATE_TLS_AUTH;
    const auth = cluster.kind === 'msk' ? 'iam' : cluster.authSecret && !mtls ? 'scram' : 'tls';
    return new ClusterNetwork(this, 'Network', {
      ...cluster,
      vpc: cluster.vpc,
      brokerPorts: brokerPortsOf(cluster.bootstrapServers, MSK_BROKER_PORTS[auth]),
    });
  }
}
