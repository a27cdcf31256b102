// The cdk-nag (AwsSolutions) findings the constructs leave, each acknowledged with why it is
// acceptable: gathered here so that a review sees every exception at once.
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { DEAD_LETTER_PREFIX, PARKED_RECORDS_PREFIX } from '../contract/index.js';

/** cdk-nag: object keys under one prefix of the one bucket are the narrowest scope S3 has. */
function objectsUnderPrefixAck(bucket: s3.IBucket, prefix: string, reason: string) {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  return { id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`, reason };
}

/** The dead letters' objects (dead-letters/). */
export function deadLetterObjectsAck(bucket: s3.IBucket) {
  return objectsUnderPrefixAck(
    bucket,
    DEAD_LETTER_PREFIX,
    'Dead letters are objects with per-record keys under one prefix of the one dead-letter bucket.',
  );
}

/** park-key's parked records (parked/). */
export function parkedRecordsAck(bucket: s3.IBucket) {
  return objectsUnderPrefixAck(
    bucket,
    PARKED_RECORDS_PREFIX,
    'Parked records are objects with per-record keys (group, topic, partition, key hash, offset) under one prefix of the one dead-letter bucket.',
  );
}

/** The dead-letter queues need no queue behind them, and the bucket no access-log bucket. */
export function acknowledgeDeadLetterStorage(queues: readonly IConstruct[], bucket: IConstruct): void {
  for (const queue of queues) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason: 'This queue is itself a dead-letter destination; nothing consumes it in a loop that could need one behind it.',
    });
  }
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason:
      'Only the consumer writes and only the replay function reads, under IAM; CloudTrail data events audit object access where required, without a second logging bucket.',
  });
}

/** MSK group grants on every group of the cluster, when Lambda names the group. */
export function acknowledgeAnyMskGroup(fn: IConstruct, groupArn: string): void {
  Validations.of(fn).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::${groupArn}]`,
    reason: 'No consumerGroupId was given, so Lambda names the group; the grant is still limited to groups of this one cluster.',
  });
}

/** The self-managed Kafka mapping's network-interface actions. */
export function acknowledgeVpcNetworkInterfaces(fn: IConstruct): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason:
      'EC2 network-interface and describe actions the self-managed Kafka mapping needs in the VPC take no resource-level scope for these calls (as in AWSLambdaVPCAccessExecutionRole).',
  });
}

/** glue:GetSchemaVersion on "*", and aws-cdk-lib's own grant on the schemas of the registry named `registryName`. */
export function acknowledgeGlueSchemaVersion(fn: IConstruct, registryName: string | undefined): void {
  const reason =
    'glue:GetSchemaVersion takes no resource narrower than "*": a record names only its schema version id (Glue developer guide, "Getting started with schema registry", IAM examples for deserializers; awslabs/aws-glue-schema-registry issues 68, 151).';
  Validations.of(fn).acknowledge({ id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason });
  Validations.of(fn).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::["arn:\${AWS::Partition}:glue:\${AWS::Region}:\${AWS::AccountId}:schema/\${registryName}/*",{"registryName":"${registryName}"}]]`,
    reason: `aws-cdk-lib's grant on the schemas of the one registry; ${reason}`,
  });
}

/** The S3 prefix-list lookup of ClusterNetwork. */
export function acknowledgePrefixListLookup(lookup: IConstruct): void {
  Validations.of(lookup).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'ec2:DescribeManagedPrefixLists takes no resource-level scope; the lookup only reads the S3 prefix list id.',
  });
}

/** The outage breaker's lambda:ListEventSourceMappings, on the consumer's and the resumer's roles. */
export function acknowledgeListEventSourceMappings(grantee: IConstruct): void {
  Validations.of(grantee).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason:
      'lambda:ListEventSourceMappings takes no resource-level scope (Lambda guide, "Fine-tuning the Resources and Conditions sections of policies"); it only lists mappings. The calls that change a mapping are granted on the consumer\'s own mappings by ARN.',
  });
}
