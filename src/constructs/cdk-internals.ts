// Every read of what aws-cdk-lib keeps private, in one module: its event-source classes bind the
// on-failure destination, the schema registry and the mapping without exposing them, so these
// are read by name (private fields) or from the mappings as synthesized (L1 properties typed as
// tokens). test/cdk/cdk-internals.test.ts asserts each read on real aws-cdk-lib objects, so an
// aws-cdk-lib upgrade that renames one fails there first.
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';

/** The bucket of an `S3OnFailureDestination` (its private `bucket`). */
export function onFailureBucketOf(destination: sources.S3OnFailureDestination): s3.IBucket {
  return (destination as unknown as { bucket: s3.IBucket }).bucket;
}

/** The secret of a `ConfluentSchemaRegistry` (its private `props.secret`). */
export function confluentRegistrySecretOf(registry: sources.ConfluentSchemaRegistry): secretsmanager.ISecret {
  return (registry as unknown as { props: sources.ConfluentSchemaRegistryProps }).props.secret;
}

/** The props of a `GlueSchemaRegistry` (its private `props`). */
export function glueRegistryPropsOf(registry: sources.GlueSchemaRegistry): sources.GlueSchemaRegistryProps {
  return (registry as unknown as { props: sources.GlueSchemaRegistryProps }).props;
}

/** The event source mappings an event source added under `scope` (the function), as synthesized. */
export function mappingsUnder(scope: IConstruct): lambda.CfnEventSourceMapping[] {
  return scope.node.findAll().filter((c): c is lambda.CfnEventSourceMapping => c instanceof lambda.CfnEventSourceMapping);
}

/** A mapping's topic and id (CloudFormation `Ref`, the UUID): aws-cdk-lib exposes the id on ManagedKafkaEventSource only. */
export function mappingTopicAndId(mapping: lambda.CfnEventSourceMapping): { readonly topic: string; readonly id: string } {
  return { topic: mapping.topics![0]!, id: mapping.ref };
}

/** The on-failure destination's ARN (or `kafka://` URI) the mapping was bound with. */
export function onFailureTargetOf(mapping: lambda.CfnEventSourceMapping): string | undefined {
  const config = mapping.destinationConfig as lambda.CfnEventSourceMapping.DestinationConfigProperty | undefined;
  return (config?.onFailure as lambda.CfnEventSourceMapping.OnFailureProperty | undefined)?.destination;
}

/** The schema registry configuration the mapping was bound with (MSK or self-managed). */
export function schemaRegistryConfigOf(
  mapping: lambda.CfnEventSourceMapping,
): lambda.CfnEventSourceMapping.SchemaRegistryConfigProperty | undefined {
  const kafkaConfig = (mapping.amazonManagedKafkaEventSourceConfig ?? mapping.selfManagedKafkaEventSourceConfig) as
    { schemaRegistryConfig?: lambda.CfnEventSourceMapping.SchemaRegistryConfigProperty } | undefined;
  return kafkaConfig?.schemaRegistryConfig;
}

/** The attributes (KEY, VALUE) of a bound schema registry configuration. */
export function schemaValidationAttributesOf(config: lambda.CfnEventSourceMapping.SchemaRegistryConfigProperty): (string | undefined)[] {
  return ((config.schemaValidationConfigs ?? []) as lambda.CfnEventSourceMapping.SchemaValidationConfigProperty[]).map((c) => c.attribute);
}
