// The consumer's IAM, one function per concern (dead letters, MSK, secrets, on-failure
// destination, schema registry, filter key), each with the VPC endpoint policy that lets the
// same calls through the cluster's network. aws-cdk-lib grants part of each; what it grants and
// what is added here is said at each function.
import { Annotations, Arn, ArnFormat, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { confluentRegistrySecretOf, glueRegistryPropsOf, mappingsUnder } from './cdk-internals.js';
import {
  acknowledgeAnyMskGroup,
  acknowledgeGlueSchemaVersion,
  acknowledgeVpcNetworkInterfaces,
  deadLetterObjectsAck,
} from './cdk-nag-acknowledgements.js';
import type { ClusterNetwork } from './cluster-network.js';
import type { KafkaCluster, SelfManagedCluster } from './kafka-consumer-props.js';
import { validateMskClusterArn } from './cluster-validation.js';
import { DEAD_LETTER_PREFIX, IDEMPOTENCY_ACTIONS } from '../contract/index.js';
import { mappingConsumerGroupId } from '../runtime/consumer-group.js';

/** The consumer's function, and its cluster's network when it has one. */
export interface Grantee {
  readonly function: lambda.Function;
  readonly network?: ClusterNetwork | undefined;
}

/** What `ISecret.grantRead` allows, for the Secrets Manager endpoint's policy. */
export const SECRET_READ_ACTIONS = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];

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

/** ARNs of an MSK cluster's topics and groups, for IAM. */
export function mskResourceArns(clusterArn: string) {
  validateMskClusterArn(clusterArn);
  const base = clusterArn.replace(':cluster/', ':');
  const at = (kind: string) => (name: string) => base.replace(/:([^:]*)$/, `:${kind}/$1/${name}`);
  return { topic: at('topic'), group: at('group') };
}

/**
 * kms:Decrypt on the secret's customer-managed key, only through Secrets Manager. `ISecret.grantRead`
 * does not add it for a key imported by ARN, so it is granted here explicitly.
 */
export function grantSecretKeyDecrypt(secret: secretsmanager.ISecret, grantee: iam.IGrantable): void {
  if (!secret.encryptionKey) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt'],
      resources: [secret.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(secret).region}.amazonaws.com` } },
    }),
  );
}

/** The runtime sends dead letters to the queue and puts oversized ones under the bucket's prefix. */
export function grantDeadLetterWrite({ function: fn }: Grantee, queue: sqs.IQueue, bucket: s3.IBucket, key: kms.IKey | undefined): void {
  queue.grantSendMessages(fn);
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(`${DEAD_LETTER_PREFIX}*`)] }));
  key?.grantEncrypt(fn);
  Validations.of(fn).acknowledge(deadLetterObjectsAck(bucket));
}

/**
 * The runtime's ledger calls exactly IDEMPOTENCY_ACTIONS on its table. Under a customer managed
 * key, DynamoDB uses the key on the caller's behalf: the function gets the key actions
 * aws-cdk-lib's `grantReadWriteData` gives (`aws-dynamodb` perms: KEY_READ_ACTIONS and
 * KEY_WRITE_ACTIONS), only through DynamoDB (the KMS developer guide's DynamoDB key policy
 * limits them with kms:ViaService the same way). An imported key's policy is its owner's.
 */
export function grantIdempotencyLedger({ function: fn }: Grantee, table: dynamodb.ITable): void {
  table.grant(fn, ...IDEMPOTENCY_ACTIONS);
  if (!table.encryptionKey) return;
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
      resources: [table.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(table).region}.amazonaws.com` } },
    }),
  );
}

/** The mapping reads with the function's role: MSK IAM actions on exactly this cluster, its topics and group. */
export function grantMskRead({ function: fn }: Grantee, clusterArn: string, topics: readonly string[], groupId: string | undefined): void {
  const arns = mskResourceArns(clusterArn);
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
      resources: [clusterArn],
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      resources: topics.map(arns.topic),
    }),
  );
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
      resources: groupId ? topics.map((topic) => arns.group(mappingConsumerGroupId(groupId, topic))) : [arns.group('*')],
    }),
  );
  if (!groupId) acknowledgeAnyMskGroup(fn, arns.group('*'));
}

/**
 * A self-managed cluster's mapping places its network interfaces in the VPC and reads its
 * secrets with the function's role (Lambda guide, "Configuring Lambda execution role
 * permissions" for self-managed Kafka: kms:Decrypt for secrets under a customer managed key).
 * aws-cdk-lib's SelfManagedKafkaEventSource grants neither the network interfaces, nor the
 * root CA certificate, nor the auth secret's imported key.
 */
export function grantSelfManagedAccess({ function: fn, network }: Grantee, cluster: SelfManagedCluster): void {
  if (cluster.vpc) {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeVpcs',
          'ec2:DeleteNetworkInterface',
          'ec2:DescribeSubnets',
          'ec2:DescribeSecurityGroups',
        ],
        resources: ['*'],
      }),
    );
    acknowledgeVpcNetworkInterfaces(fn);
  }
  cluster.rootCACertificate?.grantRead(fn);
  for (const secret of [cluster.authSecret, cluster.rootCACertificate]) {
    if (!secret) continue;
    grantSecretKeyDecrypt(secret, fn);
    network?.allow('secretsmanager', endpointStatement(SECRET_READ_ACTIONS, [secret.secretArn]));
  }
}

/**
 * On demand, the mapping invokes the function and assumes its role from the cluster's VPC
 * (Lambda guide, "Configuring your Amazon MSK cluster and Amazon VPC network for Lambda");
 * provisioned pollers do both from Lambda's own network.
 */
export function allowOnDemandPollers({ network }: Grantee): void {
  network?.allow('lambda', lambdaServiceEndpointStatement('lambda:InvokeFunction'));
  network?.allow('sts', lambdaServiceEndpointStatement('sts:AssumeRole'));
}

/**
 * The on-failure destination's endpoints and the deny of S3 deletes; aws-cdk-lib grants the role
 * SQS send, SNS publish and S3 read-write. The mapping sends to its on-failure destination from
 * the cluster's VPC, with the function's role (Lambda guide: "You must deploy a VPC endpoint for
 * your on-failure destination service").
 */
export function allowOnFailureDestination({ function: fn, network }: Grantee, service: 'sqs' | 'sns' | 's3', target: string): void {
  if (service === 'sns') {
    network?.allow('sns', endpointStatement(['sns:Publish'], [target]));
  } else if (service === 's3') {
    network?.allow('s3', endpointStatement(['s3:PutObject', 's3:ListBucket'], [target, `${target}/*`]));
    // aws-cdk-lib grants read-write on the bucket, where Lambda needs s3:PutObject and
    // s3:ListBucket ("Capturing discarded batches"): the role may not delete the batches kept there.
    fn.addToRolePolicy(new iam.PolicyStatement({ effect: iam.Effect.DENY, actions: ['s3:DeleteObject*'], resources: [`${target}/*`] }));
  } else {
    network?.allow('sqs', endpointStatement(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], [target]));
  }
}

/**
 * "Capturing discarded batches" (execution role): kafka-cluster:WriteData for a Kafka
 * destination. The guide's example policy also has DescribeCluster on the cluster, which a
 * producer's metadata requests may need; the consumer's Connect is granted by grantMskRead.
 */
export function grantFailureTopicWrite({ function: fn }: Grantee, cluster: KafkaCluster, topic: string): void {
  if (cluster.kind !== 'msk') return;
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kafka-cluster:DescribeCluster'], resources: [cluster.clusterArn] }));
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'],
      resources: [mskResourceArns(cluster.clusterArn).topic(topic)],
    }),
  );
}

/**
 * Glue-framed records carry only their schema version id, which the mapping looks up with
 * glue:GetSchemaVersion. Glue's IAM example for deserializers grants that action on "*", and
 * the Glue Schema Registry maintainers say it takes no narrower resource (awslabs/aws-glue-schema-registry
 * issues 68 and 151): aws-cdk-lib's grant on the registry's schemas alone is refused. glue:GetRegistry
 * stays on the one registry, as aws-cdk-lib grants it.
 */
export function grantGlueSchemas(
  scope: Construct,
  { function: fn }: Grantee,
  registryArn: string,
  registry: sources.GlueSchemaRegistry,
): void {
  fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['glue:GetSchemaVersion'], resources: ['*'] }));
  const name = glueRegistryPropsOf(registry).schemaRegistry?.name ?? Arn.split(registryArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName;
  acknowledgeGlueSchemaVersion(fn, name);
  if (Token.isUnresolved(registryArn)) return; // a registry of this stack
  const { account } = Arn.split(registryArn, ArnFormat.SLASH_RESOURCE_NAME);
  const stackAccount = Stack.of(scope).account;
  if (account && !Token.isUnresolved(stackAccount) && account !== stackAccount) {
    Annotations.of(scope).addWarningV2(
      'kafka-consumers:glueRegistryInAnotherAccount',
      `schemaRegistryConfig names a Glue registry of account ${account}, but the mapping reads it with the function's role in account ${stackAccount}: Glue schema registries take no resource-based policy, and glue:GetSchemaVersion looks a schema version id up in the caller's own account, so the mapping cannot look their schemas up. Use a registry in the function's account (docs/deploying.md, "Event source mapping capabilities").`,
    );
  }
}

/**
 * A Confluent registry's secret is the user's, given to the registry: aws-cdk-lib grants its
 * read, not its imported key's decrypt. AWS does not say from which network the pollers call
 * the registry: the created security group may reach it.
 */
export function grantConfluentRegistry(
  { function: fn, network }: Grantee,
  registryUri: string,
  registry: sources.ConfluentSchemaRegistry,
): void {
  const secret = confluentRegistrySecretOf(registry);
  grantSecretKeyDecrypt(secret, fn);
  network?.allow('secretsmanager', endpointStatement(SECRET_READ_ACTIONS, [secret.secretArn]));
  const port = urlPort(registryUri);
  if (port !== undefined) network?.addClientEgress(port, 'Confluent schema registry');
}

/** The port of an http(s) URL: the one it names, else the scheme's. @returns undefined for a token or another scheme */
function urlPort(uri: string): number | undefined {
  if (Token.isUnresolved(uri) || !URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/**
 * Lambda guide, "Encryption of filter criteria": the key policy allows kms:Decrypt to the
 * regional Lambda service principal, limited by aws:SourceArn. Given `filterEncryption`,
 * aws-cdk-lib would also allow kms:Decrypt to the global lambda.amazonaws.com, unconditioned,
 * on a key it owns: so the key is set on the mappings here (KmsKeyArn) instead, and the key
 * policy gets only the regional statement, for this account's mappings (the mapping's own ARN
 * would make the key and the mapping depend on each other).
 */
export function allowFilterDecryption(scope: Construct, { function: fn }: Grantee, key: kms.IKey, id: string): void {
  for (const mapping of mappingsUnder(fn)) mapping.kmsKeyArn = key.keyArn;
  const stack = Stack.of(scope);
  const mappings = stack.formatArn({
    service: 'lambda',
    resource: 'event-source-mapping',
    resourceName: '*',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const { statementAdded } = key.addToResourcePolicy(
    new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`lambda.${stack.region}.amazonaws.com`)],
      actions: ['kms:Decrypt'],
      resources: ['*'],
      conditions: { ArnLike: { 'aws:SourceArn': mappings } },
    }),
  );
  if (!statementAdded) {
    Annotations.of(scope).addWarningV2(
      'kafka-consumers:filterEncryptionKeyPolicy',
      `${id}: filterEncryption is an imported key, so its key policy is yours: it must allow kms:Decrypt to Lambda's regional service principal (lambda.<region>.amazonaws.com, with aws:SourceArn the mapping's ARN), and kms:GenerateDataKey, kms:DescribeKey and kms:Decrypt to whoever creates the mapping (the CloudFormation deployment role), or Lambda cannot encrypt and read the filters (Lambda guide, "Encryption of filter criteria").`,
    );
  }
}
