// src/constructs/cdk-internals.ts reads what aws-cdk-lib keeps private. Each read is checked here
// on real aws-cdk-lib objects, so an aws-cdk-lib upgrade that renames a field fails this file
// (and names the read) instead of quietly dropping a grant or an alarm.
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import {
  confluentRegistrySecretOf,
  glueRegistryPropsOf,
  mappingTopicAndId,
  mappingsUnder,
  onFailureBucketOf,
  onFailureTargetOf,
  schemaRegistryConfigOf,
  schemaValidationAttributesOf,
} from '../../src/constructs/cdk-internals.js';

const CLUSTER = 'arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1234';
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf';
const valueOnly = [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }];

const stackOf = () => new Stack(new App(), 'Internals', { env: { account: '123456789012', region: 'us-east-1' } });
const functionIn = (stack: Stack) =>
  new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = () => {};'),
  });

describe('aws-cdk-lib internals the constructs read', () => {
  it("reads S3OnFailureDestination's private bucket", () => {
    const bucket = new s3.Bucket(stackOf(), 'Failures');
    expect(onFailureBucketOf(new sources.S3OnFailureDestination(bucket))).toBe(bucket);
  });

  it("reads ConfluentSchemaRegistry's private props.secret", () => {
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stackOf(), 'Secret', SECRET);
    const registry = new sources.ConfluentSchemaRegistry({
      schemaRegistryUri: 'https://registry.example.com',
      eventRecordFormat: lambda.EventRecordFormat.JSON,
      authenticationType: lambda.KafkaSchemaRegistryAccessConfigType.BASIC_AUTH,
      secret,
      schemaValidationConfigs: valueOnly,
    });
    expect(confluentRegistrySecretOf(registry)).toBe(secret);
  });

  it("reads GlueSchemaRegistry's private props", () => {
    const schemaRegistry = new glue.CfnRegistry(stackOf(), 'Registry', { name: 'orders-registry' });
    const registry = new sources.GlueSchemaRegistry({
      schemaRegistry,
      eventRecordFormat: lambda.EventRecordFormat.SOURCE,
      schemaValidationConfigs: valueOnly,
    });
    expect(glueRegistryPropsOf(registry).schemaRegistry).toBe(schemaRegistry);
  });

  it("reads the bound mapping's topic, id, on-failure destination and schema registry configuration", () => {
    const stack = stackOf();
    const fn = functionIn(stack);
    const queue = new sqs.Queue(stack, 'OnFailure');
    fn.addEventSource(
      new sources.ManagedKafkaEventSource({
        clusterArn: CLUSTER,
        topic: 'orders',
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        onFailure: new sources.SqsDlq(queue),
        provisionedPollerConfig: { minimumPollers: 1, maximumPollers: 1 },
        schemaRegistryConfig: new sources.GlueSchemaRegistry({
          schemaRegistryArn: 'arn:aws:glue:us-east-1:123456789012:registry/orders-registry',
          eventRecordFormat: lambda.EventRecordFormat.SOURCE,
          schemaValidationConfigs: valueOnly,
        }),
      }),
    );
    const mappings = mappingsUnder(fn);
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]!;
    const { topic, id } = mappingTopicAndId(mapping);
    expect(topic).toBe('orders');
    expect(stack.resolve(id)).toEqual({ Ref: stack.getLogicalId(mapping) });
    expect(stack.resolve(onFailureTargetOf(mapping))).toEqual(stack.resolve(queue.queueArn));
    const config = schemaRegistryConfigOf(mapping)!;
    expect(config.schemaRegistryUri).toBe('arn:aws:glue:us-east-1:123456789012:registry/orders-registry');
    expect(schemaValidationAttributesOf(config)).toEqual(['VALUE']);
  });
});
