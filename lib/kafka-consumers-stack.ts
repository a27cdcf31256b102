import { CfnOutput, Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { DEAD_LETTER_PREFIX, KafkaConsumer, bundlingOptions, deadLetterObjectsAck, mskResourceArns, type KafkaConsumerProps } from './kafka-consumer';
import { MappingSettingsError } from './mapping-settings';
import { KAFKA_COMPRESSION_CODECS, type KafkaCompression } from '../functions/runtime/kafka-codecs';

export interface KafkaConsumersStackProps extends StackProps {
  readonly consumer: KafkaConsumerProps;
  /** Create the CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
  /**
   * ARN of the SASL/SCRAM secret of a self-managed cluster, for apps configured from context;
   * same as `consumer.cluster.authSecret`. @default none
   */
  readonly authSecretArn?: string;
  /** Replays allowed per record before the replay function leaves it in the queue. @default 3 */
  readonly replayLimit?: number;
  /**
   * The codec the replay function compresses the record batches it produces with: `'none'`,
   * `'gzip'`, `'snappy'`, `'lz4'` or `'zstd'` (consumers read every one). @default 'none'
   */
  readonly replayCompression?: KafkaCompression;
  /** The VPC the replay function needs to reach the brokers. @default no VPC (public or local brokers) */
  readonly replayVpc?: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly replaySubnets?: ec2.SubnetSelection;
  /** @default a new group with all outbound traffic allowed */
  readonly replaySecurityGroups?: ec2.ISecurityGroup[];
}

/** The consumer, its DLQ replay function, and a dashboard. */
export class KafkaConsumersStack extends Stack {
  readonly consumer: KafkaConsumer;
  readonly replayFunction: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: KafkaConsumersStackProps) {
    super(scope, id, props);
    let cluster = props.consumer.cluster;
    if (props.authSecretArn && cluster.kind === 'self-managed') {
      cluster = { ...cluster, authSecret: secretsmanager.Secret.fromSecretCompleteArn(this, 'KafkaAuthSecret', props.authSecretArn) };
    }
    const consumer = (this.consumer = new KafkaConsumer(this, 'Consumer', { ...props.consumer, cluster }));
    const { topics } = props.consumer;
    if (!cluster.bootstrapServers?.length) {
      throw new MappingSettingsError('cluster.bootstrapServers is empty: the replay function produces to the brokers and needs them (for MSK, the IAM bootstrap string, port 9098).');
    }

    const compression = props.replayCompression ?? 'none';
    if (!KAFKA_COMPRESSION_CODECS.includes(compression)) {
      throw new MappingSettingsError(`replayCompression is "${compression}"; it must be one of ${KAFKA_COMPRESSION_CODECS.join(', ')}.`);
    }

    this.replayFunction = new nodejs.NodejsFunction(this, 'ReplayFunction', {
      entry: new URL('../functions/replay/index.ts', import.meta.url).pathname,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      bundling: bundlingOptions(),
      ...(props.replayVpc ? { vpc: props.replayVpc, vpcSubnets: props.replaySubnets ?? {}, ...(props.replaySecurityGroups ? { securityGroups: props.replaySecurityGroups } : {}) } : {}),
      environment: {
        DLQ_URL: consumer.deadLetterQueue.queueUrl,
        KAFKA_BROKERS: cluster.bootstrapServers.join(','),
        KAFKA_AUTH: cluster.kind === 'msk' ? 'iam' : cluster.authSecret ? scramOf(cluster.authenticationMethod?.toString()) : 'tls',
        ...(cluster.kind === 'self-managed' && cluster.authSecret ? { KAFKA_SASL_SECRET_ARN: cluster.authSecret.secretArn } : {}),
        REPLAY_ALLOWED_TOPICS: topics.join(','),
        REPLAY_MAX_COUNT: String(props.replayLimit ?? 3),
        KAFKA_COMPRESSION: compression,
        POWERTOOLS_SERVICE_NAME: `${consumer.serviceName}-replay`,
        POWERTOOLS_METRICS_NAMESPACE: consumer.metricsNamespace,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    consumer.deadLetterQueue.grantConsumeMessages(this.replayFunction);
    this.replayFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [consumer.deadLetterBucket.arnForObjects(`${DEAD_LETTER_PREFIX}*`)] }));
    props.consumer.encryptionKey?.grantDecrypt(this.replayFunction);
    Validations.of(this.replayFunction).acknowledge(deadLetterObjectsAck(consumer.deadLetterBucket));
    if (cluster.kind === 'msk') {
      const arns = mskResourceArns(cluster.clusterArn);
      this.replayFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'], resources: [cluster.clusterArn] }));
      this.replayFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: topics.map(arns.topic) }));
    } else if (cluster.authSecret) {
      cluster.authSecret.grantRead(this.replayFunction);
    }

    if (props.dashboard ?? true) this.#dashboard(consumer, topics);
    new CfnOutput(this, 'ReplayFunctionName', { value: this.replayFunction.functionName, description: 'aws lambda invoke --function-name <this> --payload \'{"dryRun":true}\' out.json' });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: consumer.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'OnFailureQueueUrl', { value: consumer.onFailureQueue.queueUrl });
    this.#acknowledgeFindings();
  }

  #dashboard(consumer: KafkaConsumer, topics: string[]) {
    const byTopic = (name: string) => topics.map((t) => consumer.runtimeMetric(name, t).with({ label: `${name} ${t}` }));
    const fn = consumer.function;
    new cloudwatch.Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new cloudwatch.GraphWidget({ title: 'Throughput (records)', left: [...byTopic('RecordsReceived'), ...byTopic('RecordsProcessed')] }),
          new cloudwatch.GraphWidget({ title: 'Failures', left: [...byTopic('RecordsRetried'), ...byTopic('RecordsRedelivered'), ...byTopic('DeadLetterSendErrors'), fn.metricErrors()] }),
          new cloudwatch.GraphWidget({ title: 'Dead letters', left: [...byTopic('RecordsDeadLettered')], right: [consumer.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'DLQ depth' })] }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Offset lag', left: [consumer.offsetLagMetric()] }),
          new cloudwatch.GraphWidget({ title: 'Duration', left: [fn.metricDuration({ statistic: 'p99' }), ...topics.map((t) => consumer.runtimeMetric('BatchDuration', t, 'p99'))] }),
          new cloudwatch.GraphWidget({ title: 'Batch size', left: topics.map((t) => consumer.runtimeMetric('BatchSize', t, 'Average')), right: topics.map((t) => consumer.runtimeMetric('BatchBytes', t, 'Average')) }),
        ],
      ],
    });
  }

  // The cdk-nag (AwsSolutions) findings that remain, each with why it is acceptable.
  #acknowledgeFindings() {
    const managed = (policy: string, reason: string) => ({ id: `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`, reason });
    for (const a of [
      managed('AWSLambdaBasicExecutionRole', 'Lets the functions write their own logs, nothing more.'),
      managed('AWSLambdaMSKExecutionRole', 'Attached by aws-cdk-lib\'s ManagedKafkaEventSource: the ENI and MSK describe calls the event source mapping itself makes.'),
      managed('AWSLambdaVPCAccessExecutionRole', 'Lets the replay function place its ENIs in the brokers\' VPC.'),
    ]) {
      Validations.of(this).acknowledge(a);
    }
  }
}

function scramOf(method: string | undefined): string {
  if (!method || method === 'SASL_SCRAM_512_AUTH') return 'scram-sha-512';
  if (method === 'SASL_SCRAM_256_AUTH') return 'scram-sha-256';
  throw new MappingSettingsError(`authenticationMethod ${method} is not supported by the replay function; use SASL_SCRAM_512_AUTH or SASL_SCRAM_256_AUTH.`);
}
