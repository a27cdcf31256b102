// Issue 14: every Kafka event source mapping capability as a KafkaConsumer prop, with
// aws-cdk-lib's names and types, validated at synth, with the IAM each one needs. Sources:
// aws-cdk-lib 2.276 aws-lambda-event-sources README, Kafka section
// (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_event_sources-readme.html);
// CloudFormation AWS::Lambda::EventSourceMapping
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html).
import { describe, expect, it } from 'vitest';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { KafkaConsumer, type KafkaConsumerProps } from '../../../lib/kafka-consumer';
import { base, resourcesOf, synth, synthStack } from './support';

const REGISTRY = 'arn:aws:glue:us-east-1:123456789012:registry/orders-registry';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:failures';
const BUCKET_ARN = 'arn:aws:s3:::orders-failures';
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf';
const CA = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-ca-AbCdEf';
/** Imported resources live in a scope of their own: their ARNs are literals, usable in any stack. */
const imports = new Stack();
const orderFilter = lambda.FilterCriteria.filter({ value: { kind: lambda.FilterRule.isEqual('order') } });

const mapping = (t: Template) => Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'))[0]!.Properties;
type Statement = { Action: string | string[]; Resource: unknown };
const statements = (t: Template): Statement[] =>
  Object.values(resourcesOf(t, 'AWS::IAM::Policy')).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const granted = (t: Template, action: string) => statements(t).filter((s) => [s.Action].flat().includes(action));

describe('mapping capabilities (deploy contract)', () => {
  it('synthesizes the issue\'s acceptance example: filters, Glue schema registry, a Kafka failure topic, metrics, logs and a poller group', () => {
    const t = synth({
      filters: [orderFilter],
      schemaRegistryConfig: new sources.GlueSchemaRegistry({
        schemaRegistryArn: REGISTRY, eventRecordFormat: lambda.EventRecordFormat.JSON,
        schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
      }),
      onFailure: new sources.KafkaDlq('orders-failed'),
      metricsConfig: { metrics: [lambda.MetricType.EVENT_COUNT, lambda.MetricType.ERROR_COUNT] },
      logLevel: lambda.EventSourceMappingLogLevel.INFO,
      pollerGroupName: 'shared-pollers',
    });
    const m = mapping(t);
    expect(m.FilterCriteria).toEqual({ Filters: [{ Pattern: '{"value":{"kind":["order"]}}' }] });
    expect(m.AmazonManagedKafkaEventSourceConfig).toEqual({
      ConsumerGroupId: 'orders-group-orders',
      SchemaRegistryConfig: { SchemaRegistryURI: REGISTRY, EventRecordFormat: 'JSON', SchemaValidationConfigs: [{ Attribute: 'VALUE' }] },
    });
    expect(m.DestinationConfig).toEqual({ OnFailure: { Destination: 'kafka://orders-failed' } });
    expect(m.MetricsConfig).toEqual({ Metrics: ['EventCount', 'ErrorCount'] });
    expect(m.LoggingConfig).toEqual({ SystemLogLevel: 'INFO' });
    expect(m.ProvisionedPollerConfig).toEqual({ MinimumPollers: 1, MaximumPollers: 10, PollerGroupName: 'shared-pollers' });

    // Lambda guide, "Using schema registries with Kafka event sources" (permissions): glue:GetRegistry, glue:GetSchemaVersion.
    expect(granted(t, 'glue:GetRegistry')[0]?.Resource).toBe(REGISTRY);
    expect(granted(t, 'glue:GetSchemaVersion')).toHaveLength(1);
    // Lambda guide, "Capturing discarded batches" (execution role): kafka-cluster:WriteData for a Kafka destination.
    // (The replay function's own WriteData is on the source topics.)
    expect(granted(t, 'kafka-cluster:WriteData').flatMap((s) => [s.Resource].flat())).toContain('arn:aws:kafka:us-east-1:123456789012:topic/demo/abcd-1234/orders-failed');
    expect(granted(synth(), 'kafka-cluster:WriteData').flatMap((s) => [s.Resource].flat()).join()).not.toContain('orders-failed');
    // Another destination than the construct's queue: no queue, no alarm on it.
    t.resourceCountIs('AWS::SQS::Queue', 1);
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).not.toContain('on-failure queue');
  });

  it('keeps its own on-failure queue, and the alarm on it, when onFailure is not given', () => {
    const t = synth();
    const queues = resourcesOf(t, 'AWS::SQS::Queue');
    const onFailure = Object.keys(queues).find((id) => id.includes('OnFailureQueue'))!;
    expect((mapping(t).DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination).toEqual({ 'Fn::GetAtt': [onFailure, 'Arn'] });
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).toContain(onFailure);
    for (const key of ['FilterCriteria', 'KmsKeyArn', 'MetricsConfig', 'LoggingConfig', 'Enabled']) expect(mapping(t)[key], key).toBeUndefined();
  });

  // Lambda guide, "Capturing discarded batches" (execution role): sns:Publish for SNS; s3:PutObject and s3:ListBucket for S3.
  it('grants publish to an SNS destination and writes to an S3 destination, with no queue of its own', () => {
    const viaSns = synth({ onFailure: new sources.SnsDlq(sns.Topic.fromTopicArn(imports, 'Failures', TOPIC_ARN)) });
    expect(mapping(viaSns).DestinationConfig).toEqual({ OnFailure: { Destination: TOPIC_ARN } });
    expect(granted(viaSns, 'sns:Publish')[0]?.Resource).toBe(TOPIC_ARN);
    viaSns.resourceCountIs('AWS::SQS::Queue', 1);

    const viaS3 = synth({ onFailure: new sources.S3OnFailureDestination(s3.Bucket.fromBucketArn(imports, 'FailureBucket', BUCKET_ARN)) });
    expect(mapping(viaS3).DestinationConfig).toEqual({ OnFailure: { Destination: BUCKET_ARN } });
    expect(granted(viaS3, 's3:PutObject').some((s) => JSON.stringify(s.Resource).includes(BUCKET_ARN))).toBe(true);
    expect(granted(viaS3, 's3:List*').length + granted(viaS3, 's3:ListBucket').length).toBeGreaterThan(0);
  });

  // Lambda guide, "Using a Kafka topic as an on-failure destination": recursion prevention.
  it('refuses a failure topic that is one of the topics it reads', () => {
    expect(() => synth({ onFailure: new sources.KafkaDlq('orders') })).toThrow('onFailure is kafka://orders, one of the topics this consumer reads');
  });

  // Lambda guide, "Filtering events from Amazon MSK and self-managed Apache Kafka event sources": value key only.
  it('refuses filters on anything but value, and malformed rules, naming the filter', () => {
    expect(() => synth({ filters: [lambda.FilterCriteria.filter({ key: { id: lambda.FilterRule.isEqual('1') } })] })).toThrow(/filters\[0\].*"value" only/);
    expect(() => synth({ filters: [orderFilter, { pattern: '{"value": {"kind": [{"contains": "x"}]}}' }] })).toThrow('filters[1].value.kind[0]: unknown operator "contains"');
  });

  // aws-cdk-lib README, Kafka section: filterEncryption encrypts the filter criteria with your key.
  it('encrypts the filters with filterEncryption, and says what an imported key\'s policy needs', () => {
    const { stack, template } = synthStack({ filters: [orderFilter], filterEncryption: kms.Key.fromKeyArn(imports, 'FilterKey', KEY) });
    expect(mapping(template).KmsKeyArn).toBe(KEY);
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('filterEncryption is an imported key'));
    expect(() => synth({ filterEncryption: kms.Key.fromKeyArn(imports, 'LoneKey', KEY) })).toThrow('filterEncryption is set but filters is not');
  });

  // aws-cdk-lib README, "Kafka Observability Features": LogLevel and MetricsConfig only in provisioned mode.
  // Lambda guide, "Using schema registries with Kafka event sources": provisioned mode only.
  it.each([
    [{ metricsConfig: { metrics: [lambda.MetricType.KAFKA_METRICS] } }, 'metricsConfig needs provisioned mode, but pollerMode is on-demand'],
    [{ logLevel: lambda.EventSourceMappingLogLevel.WARN }, 'logLevel needs provisioned mode'],
    [{ schemaRegistryConfig: new sources.GlueSchemaRegistry({ schemaRegistryArn: REGISTRY, eventRecordFormat: lambda.EventRecordFormat.SOURCE, schemaValidationConfigs: [] }) }, 'schemaRegistryConfig needs provisioned mode'],
    [{ pollerGroupName: 'shared' }, 'pollerGroupName needs provisioned mode'],
  ])('on demand, refuses %j naming it', (props, message) => {
    expect(() => synth({ pollerMode: 'on-demand', ...props })).toThrow(message);
  });

  it('refuses an empty metricsConfig and two different poller group names', () => {
    expect(() => synth({ metricsConfig: { metrics: [] } })).toThrow('metricsConfig is []; give one or more of EventCount, ErrorCount, KafkaMetrics');
    expect(() => synth({ pollerGroupName: 'a', provisionedPollerConfig: { pollerGroupName: 'b' } })).toThrow('pollerGroupName is "a" and provisionedPollerConfig.pollerGroupName is "b"');
  });

  it('passes enabled through, so a mapping can be created paused', () => {
    expect(mapping(synth({ enabled: false })).Enabled).toBe(false);
  });

  it('takes the Confluent schema registry and grants its secret', () => {
    const t = synth({
      schemaRegistryConfig: new sources.ConfluentSchemaRegistry({
        schemaRegistryUri: 'https://registry.example.com', eventRecordFormat: lambda.EventRecordFormat.SOURCE,
        authenticationType: lambda.KafkaSchemaRegistryAccessConfigType.BASIC_AUTH, secret: secretsmanager.Secret.fromSecretCompleteArn(imports, 'RegistrySecret', SECRET),
        schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.KEY }],
      }),
    });
    expect((mapping(t).AmazonManagedKafkaEventSourceConfig as { SchemaRegistryConfig: unknown }).SchemaRegistryConfig).toEqual({
      SchemaRegistryURI: 'https://registry.example.com', EventRecordFormat: 'SOURCE', AccessConfigs: [{ Type: 'BASIC_AUTH', URI: SECRET }], SchemaValidationConfigs: [{ Attribute: 'KEY' }],
    });
    expect(granted(t, 'secretsmanager:GetSecretValue').some((s) => s.Resource === SECRET)).toBe(true);
  });
});

// Lambda guide, "Configuring self-managed Apache Kafka event sources" (authentication): SASL/SCRAM-256/512,
// SASL/PLAIN (BASIC_AUTH), mTLS (CLIENT_CERTIFICATE_TLS_AUTH) and SERVER_ROOT_CA_CERTIFICATE for a private CA.
// The consumer alone: the stack's replay function speaks SASL/SCRAM only (see the README).
describe('self-managed authentication (deploy contract)', () => {
  let n = 0;
  const selfManaged = (extra: object): Partial<KafkaConsumerProps> => ({
    cluster: { kind: 'self-managed', bootstrapServers: ['broker-1:9096'], authSecret: secretsmanager.Secret.fromSecretCompleteArn(imports, `Auth${n++}`, SECRET), ...extra },
  });
  const synth = (props: Partial<KafkaConsumerProps>) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Consumer');
    new KafkaConsumer(stack, 'Consumer', { ...base, ...props });
    return Template.fromStack(stack);
  };
  const access = (t: Template) => mapping(t).SourceAccessConfigurations as Array<{ Type: string; URI: string }>;

  it.each([
    [sources.AuthenticationMethod.SASL_SCRAM_256_AUTH, 'SASL_SCRAM_256_AUTH'],
    [sources.AuthenticationMethod.BASIC_AUTH, 'BASIC_AUTH'],
    [sources.AuthenticationMethod.CLIENT_CERTIFICATE_TLS_AUTH, 'CLIENT_CERTIFICATE_TLS_AUTH'],
  ])('passes authenticationMethod %s through with the secret', (authenticationMethod, type) => {
    expect(access(synth(selfManaged({ authenticationMethod })))).toEqual([{ Type: type, URI: SECRET }]);
  });

  it('adds the root CA certificate and lets the mapping read it (aws-cdk-lib does not grant it)', () => {
    const t = synth(selfManaged({ rootCACertificate: secretsmanager.Secret.fromSecretCompleteArn(imports, 'Ca', CA) }));
    expect(access(t)).toContainEqual({ Type: 'SERVER_ROOT_CA_CERTIFICATE', URI: CA });
    expect(granted(t, 'secretsmanager:GetSecretValue').some((s) => s.Resource === CA)).toBe(true);
  });

  it('refuses an authenticationMethod without the secret it describes', () => {
    expect(() => synth({ cluster: { kind: 'self-managed', bootstrapServers: ['b:9092'], authenticationMethod: sources.AuthenticationMethod.BASIC_AUTH } }))
      .toThrow('cluster.authenticationMethod is BASIC_AUTH but cluster.authSecret is not set');
  });
});
