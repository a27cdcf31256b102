// The cluster's props: how the mapping and the replay function authenticate and reach the brokers.
import { Token } from 'aws-cdk-lib';
import { ConstructPropsError } from './errors.js';
import type { KafkaCluster } from './kafka-consumer-props.js';
import { KAFKA_COMPRESSION_CODECS, type KafkaCompression } from '../contract/index.js';

/** How the mapping authenticates and where it reaches the brokers from. */
export function validateCluster(cluster: KafkaCluster): void {
  if (cluster.kind === 'self-managed' && cluster.authenticationMethod && !cluster.authSecret) {
    throw new ConstructPropsError(
      'cluster.authenticationMethod',
      `cluster.authenticationMethod is ${cluster.authenticationMethod} but cluster.authSecret is not set: give the secret with the credentials (or the client certificate for CLIENT_CERTIFICATE_TLS_AUTH), or leave authenticationMethod out.`,
    );
  }
  if (cluster.kind === 'self-managed' && !cluster.authSecret && !cluster.vpc) {
    throw new ConstructPropsError(
      'cluster.authSecret',
      'cluster: self-managed brokers reached over the internet need authSecret (SASL/SCRAM or BASIC_AUTH credentials, or a client certificate for CLIENT_CERTIFICATE_TLS_AUTH); give it, or the vpc they live in.',
    );
  }
  if (cluster.kind === 'msk' && cluster.vpc && !cluster.securityGroup) {
    // The mapping's network interfaces use the MSK cluster's own groups (Lambda guide,
    // "Creating a Lambda event source mapping for an Amazon MSK event source"): endpoints that
    // admit a group created here would turn the mapping's on-failure sends away.
    throw new ConstructPropsError(
      'cluster.securityGroup',
      "cluster.securityGroup is required with an MSK cluster's vpc: give the cluster's own security group (app: -c securityGroupIds=sg-…), which the mapping uses and the VPC endpoints must admit.",
    );
  }
}

/** An MSK cluster ARN, the base of its topics' and groups' ARNs for IAM. */
export function validateMskClusterArn(clusterArn: string): void {
  if (Token.isUnresolved(clusterArn) || !/^arn:aws[a-z-]*:kafka:[^:]+:\d{12}:cluster\/[^/]+\/[^/]+$/.test(clusterArn)) {
    throw new ConstructPropsError(
      'cluster.clusterArn',
      `clusterArn "${clusterArn}" is not an MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>).`,
    );
  }
}

/** The replay function's brokers, codec and authentication (it speaks SASL/SCRAM, IAM or TLS). */
export function validateReplayProps(cluster: KafkaCluster, compression: KafkaCompression): void {
  if (!cluster.bootstrapServers?.length) {
    throw new ConstructPropsError(
      'cluster.bootstrapServers',
      'cluster.bootstrapServers is empty: the replay function produces to the brokers and needs them (for MSK, the IAM bootstrap string, port 9098).',
    );
  }
  if (!KAFKA_COMPRESSION_CODECS.includes(compression)) {
    throw new ConstructPropsError(
      'compression',
      `compression is "${compression}"; it must be one of ${KAFKA_COMPRESSION_CODECS.join(', ')}.`,
    );
  }
  const method = cluster.kind === 'self-managed' && cluster.authSecret ? cluster.authenticationMethod?.toString() : undefined;
  if (method !== undefined && method !== 'SASL_SCRAM_512_AUTH' && method !== 'SASL_SCRAM_256_AUTH') {
    throw new ConstructPropsError(
      'cluster.authenticationMethod',
      `authenticationMethod ${method} is not supported by the replay function; use SASL_SCRAM_512_AUTH or SASL_SCRAM_256_AUTH.`,
    );
  }
}
