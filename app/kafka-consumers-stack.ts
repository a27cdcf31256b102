import { fileURLToPath } from 'node:url';
import { Annotations, CfnOutput, Duration, Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DeadLetterReplay } from '../src/constructs/dead-letter-replay.js';
import { KafkaConsumer } from '../src/constructs/kafka-consumer.js';
import type { KafkaConsumerProps } from '../src/constructs/kafka-consumer-props.js';
import { MappingSettingsError } from '../src/mapping/errors.js';
import type { KafkaCompression } from '../src/contract/index.js';

/** The cluster's VPC by id, for apps configured from context: imported offline (no lookups), so synth needs no account. */
export interface ClusterVpcIds {
  readonly vpcId: string;
  /** The subnets for the replay function, the endpoints and a self-managed cluster's mapping. */
  readonly subnetIds: string[];
  /** The subnets' route tables, in the same order: then S3 gets a gateway endpoint rather than an interface one. @default unknown */
  readonly routeTableIds?: string[];
  /** At most one: see `ClusterVpcProps.securityGroup`. @default one created */
  readonly securityGroupIds?: string[];
  /** @default false: see `ClusterVpcProps.vpcReachesAwsServices` */
  readonly vpcReachesAwsServices?: boolean;
}

/** This repository's example consumer (app/consumer), the app's handler unless another `entry` is given. */
export const EXAMPLE_CONSUMER_ENTRY = fileURLToPath(new URL('./consumer/index.ts', import.meta.url));

export interface KafkaConsumersStackProps extends StackProps {
  /** The consumer. @default entry: {@link EXAMPLE_CONSUMER_ENTRY} */
  readonly consumer: Omit<KafkaConsumerProps, 'entry'> & { readonly entry?: string };
  /** Create the CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
  /**
   * ARN of the SASL/SCRAM secret of a self-managed cluster, for apps configured from context;
   * same as `consumer.cluster.authSecret`. @default none
   */
  readonly authSecretArn?: string;
  /**
   * ARN of the customer-managed KMS key that encrypts `authSecretArn`: the mapping and the
   * replay function get `kms:Decrypt` on it (through Secrets Manager only). @default the secret uses the AWS managed key
   */
  readonly authSecretKeyArn?: string;
  /**
   * ARN of the SNS topic the alarms notify, for apps configured from context; same as
   * `consumer.alarmTopic`. @default `consumer.alarmTopic`: without either, the alarms notify no one
   */
  readonly alarmTopicArn?: string;
  /** Replays allowed per record before the replay function leaves it in the queue. @default 3 */
  readonly replayLimit?: number;
  /** The cluster's VPC by id; same as `consumer.cluster.vpc` and its neighbours. @default `consumer.cluster`'s own */
  readonly clusterVpcIds?: ClusterVpcIds;
  /**
   * The codec the replay function compresses the record batches it produces with: `'none'`,
   * `'gzip'`, `'snappy'`, `'lz4'` or `'zstd'` (consumers read every one). @default 'none'
   */
  readonly replayCompression?: KafkaCompression;
}

/** The consumer, its DLQ replay function (placed in the cluster's VPC, when it has one), and a dashboard. */
export class KafkaConsumersStack extends Stack {
  readonly consumer: KafkaConsumer;
  readonly replayFunction: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: KafkaConsumersStackProps) {
    super(scope, id, props);
    let cluster = props.consumer.cluster;
    if (props.authSecretKeyArn && !(props.authSecretArn && cluster.kind === 'self-managed')) {
      throw new MappingSettingsError(
        "authSecretKeyArn is the KMS key of a self-managed cluster's SCRAM secret: give it with authSecretArn (and no clusterArn), or leave it out.",
      );
    }
    if (props.authSecretArn && cluster.kind === 'self-managed') {
      const encryptionKey = props.authSecretKeyArn ? kms.Key.fromKeyArn(this, 'KafkaAuthSecretKey', props.authSecretKeyArn) : undefined;
      cluster = {
        ...cluster,
        authSecret: secretsmanager.Secret.fromSecretAttributes(this, 'KafkaAuthSecret', {
          secretCompleteArn: props.authSecretArn,
          encryptionKey,
        }),
      };
    }
    if (props.clusterVpcIds) cluster = { ...cluster, ...this.#importVpc(props.clusterVpcIds) };
    const consumer = (this.consumer = new KafkaConsumer(this, 'Consumer', {
      ...props.consumer,
      entry: props.consumer.entry ?? EXAMPLE_CONSUMER_ENTRY,
      cluster,
      ...(props.alarmTopicArn ? { alarmTopic: sns.Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) } : {}),
    }));
    this.replayFunction = new DeadLetterReplay(this, 'Replay', {
      consumer,
      ...(props.replayLimit !== undefined ? { replayLimit: props.replayLimit } : {}),
      ...(props.replayCompression !== undefined ? { compression: props.replayCompression } : {}),
    }).function;

    if (props.dashboard ?? true) this.#dashboard(consumer, props.consumer.topics);
    new CfnOutput(this, 'ReplayFunctionName', {
      value: this.replayFunction.functionName,
      description: 'aws lambda invoke --function-name <this> --payload \'{"dryRun":true}\' out.json',
    });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: consumer.deadLetterQueue.queueUrl });
    if (consumer.onFailureQueue) new CfnOutput(this, 'OnFailureQueueUrl', { value: consumer.onFailureQueue.queueUrl });
    if (consumer.idempotencyTable) new CfnOutput(this, 'IdempotencyTableName', { value: consumer.idempotencyTable.tableName });
    if (consumer.breakerFunction) {
      new CfnOutput(this, 'BreakerFunctionName', {
        value: consumer.breakerFunction.functionName,
        description: 'aws lambda invoke --function-name <this> --payload \'{"breaker":"status"}\' out.json ("open" or "close" forces it)',
      });
    }
    this.#acknowledgeFindings();
  }

  #importVpc(ids: ClusterVpcIds) {
    const { vpcId, subnetIds, routeTableIds, securityGroupIds = [] } = ids;
    if (!subnetIds.length)
      throw new MappingSettingsError(`subnetIds is empty: with vpcId ${vpcId}, give the subnets to run in (comma separated).`);
    if (routeTableIds && routeTableIds.length !== subnetIds.length) {
      throw new MappingSettingsError(
        `routeTableIds has ${routeTableIds.length} entries for ${subnetIds.length} subnetIds; give one route table per subnet, in the same order.`,
      );
    }
    if (securityGroupIds.length > 1) {
      throw new MappingSettingsError(
        `securityGroupIds has ${securityGroupIds.length} groups (${securityGroupIds.join(', ')}); give one (a self-managed cluster's mapping takes one), or none to have one created.`,
      );
    }
    const subnets = subnetIds.map((subnetId, i) =>
      ec2.Subnet.fromSubnetAttributes(this, `Subnet${i}`, { subnetId, ...(routeTableIds ? { routeTableId: routeTableIds[i] } : {}) }),
    );
    if (!routeTableIds) {
      for (const subnet of subnets) {
        Annotations.of(subnet).acknowledgeWarning(
          '@aws-cdk/aws-ec2:noSubnetRouteTableId',
          'Without routeTableIds, S3 gets an interface endpoint, which needs no route table.',
        );
      }
    }
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'ClusterVpc', { vpcId, availabilityZones: Fn.getAzs() });
    Annotations.of(vpc).acknowledgeWarning(
      '@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      'The subnets are given by id; nothing selects them by zone.',
    );
    return {
      vpc,
      vpcSubnets: { subnets },
      ...(securityGroupIds[0]
        ? { securityGroup: ec2.SecurityGroup.fromSecurityGroupId(this, 'ClusterSecurityGroup', securityGroupIds[0]) }
        : {}),
      ...(ids.vpcReachesAwsServices ? { vpcReachesAwsServices: true } : {}),
    };
  }

  #dashboard(consumer: KafkaConsumer, topics: string[]) {
    const byTopic = (name: string) => topics.map((t) => consumer.runtimeMetric(name, t).with({ label: `${name} ${t}` }));
    const fn = consumer.function;
    new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Throughput (records)',
            // With the idempotency ledger, records skipped because their work was already done.
            left: [
              ...byTopic('RecordsReceived'),
              ...byTopic('RecordsProcessed'),
              ...(consumer.idempotencyTable ? byTopic('RecordsSkippedAsDone') : []),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Failures',
            left: [...byTopic('RecordsRetried'), ...byTopic('RecordsRedelivered'), ...byTopic('DeadLetterSendErrors'), fn.metricErrors()],
          }),
          new cloudwatch.GraphWidget({
            title: 'Dead letters',
            left: [...byTopic('RecordsDeadLettered')],
            right: [consumer.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'DLQ depth' })],
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Offset lag', left: [consumer.offsetLagMetric()] }),
          new cloudwatch.GraphWidget({
            title: 'Duration',
            left: [fn.metricDuration({ statistic: 'p99' }), ...topics.map((t) => consumer.runtimeMetric('BatchDuration', t, 'p99'))],
          }),
          new cloudwatch.GraphWidget({
            title: 'Batch size',
            left: topics.map((t) => consumer.runtimeMetric('BatchSize', t, 'Average')),
            right: topics.map((t) => consumer.runtimeMetric('BatchBytes', t, 'Average')),
          }),
        ],
        // What ConsumerPausedAlarm watches, and why the breaker opened.
        ...(consumer.breakerFunction
          ? [
              [
                new cloudwatch.GraphWidget({
                  title: 'Outage breaker: paused mappings (1), openings and records kept in Kafka',
                  left: topics.map((t) =>
                    consumer.runtimeMetric('MappingPaused', t, 'Maximum').with({ period: Duration.minutes(1), label: `paused ${t}` }),
                  ),
                  right: [...byTopic('BreakerOpened'), ...byTopic('RecordsRedeliveredForOutage')],
                }),
              ],
            ]
          : []),
        // What PartitionBlockedAlarm watches, and where each blocked partition stands (a search:
        // partitions are not known at synth; dashboards take SEARCH, alarms do not).
        ...(consumer.failureMode === 'block'
          ? [
              [
                new cloudwatch.GraphWidget({
                  title:
                    'Blocked partitions: invocations holding a partition (RecordsBlocked, left), offset each partition is blocked at (right)',
                  left: byTopic('RecordsBlocked'),
                  right: [
                    new cloudwatch.MathExpression({
                      expression: `SEARCH('{${consumer.metricsNamespace},service,topic,partition} MetricName="BlockedOffset" service="${consumer.serviceName}"', 'Maximum', 60)`,
                      label: 'BlockedOffset',
                      period: Duration.minutes(1),
                    }),
                  ],
                }),
              ],
            ]
          : []),
        // What StalledMappingAlarm and PollingErrorsAlarm watch: Lambda publishes them in provisioned mode only.
        ...(consumer.settings.pollerMode === 'provisioned'
          ? [
              [
                new cloudwatch.GraphWidget({
                  title: 'Mapping polls (none at all: stalled) and polling errors',
                  left: topics.map((t) => consumer.mappingMetric(t, 'PolledEventCount', 'SampleCount').with({ label: `polls ${t}` })),
                  right: topics.map((t) => consumer.mappingMetric(t, 'PollingErrorCount').with({ label: `polling errors ${t}` })),
                }),
              ],
            ]
          : []),
      ],
    });
  }

  // The cdk-nag (AwsSolutions) findings that remain, each with why it is acceptable.
  #acknowledgeFindings() {
    const managed = (policy: string, reason: string) => ({
      id: `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`,
      reason,
    });
    for (const a of [
      managed('AWSLambdaBasicExecutionRole', 'Lets the functions write their own logs, nothing more.'),
      managed(
        'AWSLambdaMSKExecutionRole',
        "Attached by aws-cdk-lib's ManagedKafkaEventSource: the ENI and MSK describe calls the event source mapping itself makes.",
      ),
      managed('AWSLambdaVPCAccessExecutionRole', "Lets the replay function place its ENIs in the brokers' VPC."),
    ]) {
      Validations.of(this).acknowledge(a);
    }
  }
}

/** Reads `vpcId`, `subnetIds`, `routeTableIds`, `securityGroupIds` (comma separated) and `vpcReachesAwsServices` from CDK context. */
export function clusterVpcIdsFromContext(get: (key: string) => unknown): ClusterVpcIds | undefined {
  const list = (key: string) =>
    String(get(key) ?? '')
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  const vpcId = String(get('vpcId') ?? '').trim();
  const reaches = String(get('vpcReachesAwsServices') ?? 'false');
  if (reaches !== 'true' && reaches !== 'false')
    throw new MappingSettingsError(`context vpcReachesAwsServices is "${reaches}"; use true or false.`);
  if (!vpcId) {
    const stray = ['subnetIds', 'routeTableIds', 'securityGroupIds'].filter((k) => list(k).length);
    if (stray.length || reaches === 'true')
      throw new MappingSettingsError(
        `context ${[...stray, ...(reaches === 'true' ? ['vpcReachesAwsServices'] : [])].join(', ')} given without vpcId: give -c vpcId=vpc-… too.`,
      );
    return undefined;
  }
  const routeTableIds = list('routeTableIds');
  return {
    vpcId,
    subnetIds: list('subnetIds'),
    securityGroupIds: list('securityGroupIds'),
    vpcReachesAwsServices: reaches === 'true',
    ...(routeTableIds.length ? { routeTableIds } : {}),
  };
}
