import { Annotations, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { bundlingOptions, nodeOptions, packagedHandlerEntry } from './bundling.js';
import { deadLetterObjectsAck } from './cdk-nag-acknowledgements.js';
import { SECRET_READ_ACTIONS, endpointStatement, grantSecretKeyDecrypt, mskResourceArns } from './grants.js';
import { grantParkingReplay, parkedRecordsReplayStatements } from './failure-modes.js';
import type { KafkaConsumer } from './kafka-consumer.js';
import { validateReplayProps } from './cluster-validation.js';
import { DEAD_LETTER_PREFIX, ENV, ON_FAILURE_PREFIX, PARKING_REPLAY_ACTIONS, type KafkaCompression } from '../contract/index.js';
import { mappingConsumerGroupId } from '../runtime/consumer-group.js';

/** The consumer to replay, and how the replay function runs and produces. */
export interface DeadLetterReplayProps {
  /** The consumer whose dead-letter queue this function replays, onto the consumer's cluster (in its VPC, when it has one). */
  readonly consumer: KafkaConsumer;
  /** Replays allowed per record before the replay function leaves it in the queue. @default 3 */
  readonly replayLimit?: number;
  /**
   * The codec the replay compresses the record batches it produces with: `'none'`, `'gzip'`,
   * `'snappy'`, `'lz4'` or `'zstd'` (consumers read every one). @default 'none'
   */
  readonly compression?: KafkaCompression;
  /** @default 1024 MB */
  readonly memorySize?: number;
  /** @default 5 minutes */
  readonly timeout?: Duration;
}

/**
 * The replay function of a {@link KafkaConsumer}: moves its dead letters back onto their topics,
 * and, when the consumer's `onFailure` is an `S3OnFailureDestination`, the records of the objects
 * Lambda wrote there (`{"source": "s3"}`).
 * It runs where the consumer's cluster is reached: in the cluster's VPC, subnets and security
 * group when the cluster has a VPC, and lets its own calls through that VPC's endpoints.
 */
export class DeadLetterReplay extends Construct {
  /** The replay function: invoke it with `{}` (dead letters) or `{"source": "s3"}` (on-failure objects). */
  readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: DeadLetterReplayProps) {
    super(scope, id);
    const { consumer } = props;
    const { cluster, network, onFailureBucket } = consumer;
    const topics = [...consumer.settings.topics];
    const compression = props.compression ?? 'none';
    validateReplayProps(cluster, compression);
    if (cluster.kind === 'msk' && !network) {
      Annotations.of(this).addWarningV2(
        'kafka-consumers:replayWithoutVpc',
        `${id}: the MSK cluster was given without its vpc, so the replay function runs outside it and reaches only publicly accessible brokers. Give cluster.vpc (app: -c vpcId=… -c subnetIds=…).`,
      );
    }

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      // bundled with kafkajs as patches/ patches it (headers in record order)
      entry: packagedHandlerEntry('replay/index', 'replay handler'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.minutes(5),
      bundling: bundlingOptions(),
      ...(network ? { vpc: network.vpc, vpcSubnets: network.vpcSubnets, securityGroups: [network.securityGroup] } : {}),
      environment: {
        [ENV.deadLetterQueueUrl]: consumer.deadLetterQueue.queueUrl,
        [ENV.kafkaBrokers]: cluster.bootstrapServers!.join(','),
        [ENV.kafkaAuth]: cluster.kind === 'msk' ? 'iam' : cluster.authSecret ? scramOf(cluster.authenticationMethod?.toString()) : 'tls',
        ...(cluster.kind === 'self-managed' && cluster.authSecret ? { [ENV.kafkaSaslSecretArn]: cluster.authSecret.secretArn } : {}),
        ...(onFailureBucket ? { [ENV.onFailureBucket]: onFailureBucket.bucketName } : {}),
        // park-key: the release reads and marks the key's item, and the parked records in the dead-letter bucket.
        ...(consumer.parkedKeysTable
          ? { [ENV.parkedKeysTable]: consumer.parkedKeysTable.tableName, [ENV.deadLetterBucket]: consumer.deadLetterBucket.bucketName }
          : {}),
        [ENV.replayAllowedTopics]: topics.join(','),
        [ENV.replayMaxCount]: String(props.replayLimit ?? 3),
        [ENV.kafkaCompression]: compression,
        [ENV.serviceName]: `${consumer.serviceName}-replay`,
        [ENV.metricsNamespace]: consumer.metricsNamespace,
        ...nodeOptions(),
      },
    });
    const fn = this.function;
    // Receive and delete what it replays; send and put again what it re-enqueues (see DlqReplayer).
    consumer.deadLetterQueue.grantConsumeMessages(fn);
    consumer.deadLetterQueue.grantSendMessages(fn);
    const objects = consumer.deadLetterBucket.arnForObjects(`${DEAD_LETTER_PREFIX}*`);
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [objects] }));
    consumer.encryptionKey?.grantEncryptDecrypt(fn);
    Validations.of(fn).acknowledge(deadLetterObjectsAck(consumer.deadLetterBucket));
    network?.allow(
      'sqs',
      endpointStatement(
        [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
        ],
        [consumer.deadLetterQueue.queueArn],
      ),
    );
    network?.allow('s3', endpointStatement(['s3:GetObject', 's3:PutObject'], [objects]));
    if (onFailureBucket) {
      // Source "s3": list the objects Lambda filed under aws/lambda/, read each, delete it once its records are back on Kafka.
      const listOnFailureObjects = {
        actions: ['s3:ListBucket'],
        resources: [onFailureBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': `${ON_FAILURE_PREFIX}*` } },
      };
      const moveOnFailureObjects = {
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [onFailureBucket.arnForObjects(`${ON_FAILURE_PREFIX}*`)],
      };
      for (const statement of [listOnFailureObjects, moveOnFailureObjects]) {
        fn.addToRolePolicy(new iam.PolicyStatement(statement));
        network?.allow('s3', endpointStatement(statement.actions, statement.resources));
      }
      // Objects under SSE-KMS with the bucket's own key: GetObject needs kms:Decrypt on it.
      onFailureBucket.encryptionKey?.grantDecrypt(fn);
    }
    // park-key: release parked keys (the table) and their parked records (parked/ in the dead-letter bucket).
    if (consumer.parkedKeysTable) {
      grantParkingReplay(fn, { table: consumer.parkedKeysTable, bucket: consumer.deadLetterBucket });
      // Through the VPC's S3 and DynamoDB endpoints, as the dead letters' objects.
      for (const { actions, resources } of parkedRecordsReplayStatements(consumer.deadLetterBucket)) {
        network?.allow('s3', endpointStatement(actions!, resources!));
      }
      network?.allow('dynamodb', endpointStatement([...PARKING_REPLAY_ACTIONS.table], [consumer.parkedKeysTable.tableArn]));
      // An interface endpoint (subnets without known route tables) is reached by its own name only.
      for (const [name, url] of Object.entries(network?.sdkEndpointEnvironment ?? {})) fn.addEnvironment(name, url);
    }
    if (cluster.kind === 'msk') {
      const arns = mskResourceArns(cluster.clusterArn);
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'],
          resources: [cluster.clusterArn],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: topics.map(arns.topic) }),
      );
      // park-key: the release waits for the mapping's group to commit past its copies (OffsetFetch:
      // DESCRIBE on the group, docs/aws-contracts.md §15). validateFailureMode made the group id required.
      const groupId = consumer.settings.consumerGroupId;
      if (consumer.parkedKeysTable && groupId) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: [...PARKING_REPLAY_ACTIONS.consumerGroup],
            resources: topics.map((topic) => arns.group(mappingConsumerGroupId(groupId, topic))),
          }),
        );
      }
    } else if (cluster.authSecret) {
      cluster.authSecret.grantRead(fn);
      grantSecretKeyDecrypt(cluster.authSecret, fn);
      network?.allow('secretsmanager', endpointStatement(SECRET_READ_ACTIONS, [cluster.authSecret.secretArn]));
    }
  }
}

/** The SASL mechanism of a SCRAM secret (validateReplayProps refused any other method). */
function scramOf(method: string | undefined): string {
  return method === 'SASL_SCRAM_256_AUTH' ? 'scram-sha-256' : 'scram-sha-512';
}
