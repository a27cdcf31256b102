// Issue 14: every Kafka event source mapping capability as a KafkaConsumer prop, with
// aws-cdk-lib's names and types, validated at synth, with the IAM each one needs. Sources:
// aws-cdk-lib 2.276 aws-lambda-event-sources README, Kafka section
// (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_event_sources-readme.html);
// CloudFormation AWS::Lambda::EventSourceMapping
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html).
import { describe, expect, it } from 'vitest';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { KafkaConsumer } from '../../../src/constructs/kafka-consumer.js';
import type { KafkaConsumerProps } from '../../../src/constructs/kafka-consumer-props.js';
import { KafkaConsumersStack } from '../../../app/kafka-consumers-stack.js';
import { validateMappingSettings } from '../../../src/mapping/mapping-settings.js';
import { mappingSettingsFromContext } from '../../../src/mapping/mapping-context.js';
import { CLOUDFORMATION_SCHEMAS, CLUSTER, base, resourcesOf, synth, synthStack } from './support.js';

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
type Statement = { Action: string | string[]; Resource: unknown; Effect?: string; Condition?: unknown };
const statements = (t: Template): Statement[] =>
  Object.values(resourcesOf(t, 'AWS::IAM::Policy')).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const granted = (t: Template, action: string) => statements(t).filter((s) => [s.Action].flat().includes(action));

describe('mapping capabilities (deploy contract)', () => {
  it("synthesizes the issue's acceptance example: filters, Glue schema registry, a Kafka failure topic, metrics, logs and a poller group", () => {
    const t = synth({
      filters: [orderFilter],
      schemaRegistryConfig: new sources.GlueSchemaRegistry({
        schemaRegistryArn: REGISTRY,
        eventRecordFormat: lambda.EventRecordFormat.JSON,
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
    expect(granted(t, 'glue:GetSchemaVersion').flatMap((s) => [s.Resource].flat())).toContain('*'); // see below
    // Lambda guide, "Capturing discarded batches" (execution role): kafka-cluster:WriteData for a Kafka destination.
    // (The replay function's own WriteData is on the source topics.)
    expect(granted(t, 'kafka-cluster:WriteData').flatMap((s) => [s.Resource].flat())).toContain(
      'arn:aws:kafka:us-east-1:123456789012:topic/demo/abcd-1234/orders-failed',
    );
    expect(
      granted(synth(), 'kafka-cluster:WriteData')
        .flatMap((s) => [s.Resource].flat())
        .join(),
    ).not.toContain('orders-failed');
    // Lambda guide, "Using a Kafka topic as an on-failure destination", example policy: kafka-cluster:DescribeCluster on the cluster.
    expect(granted(t, 'kafka-cluster:DescribeCluster').map((s) => s.Resource)).toEqual([CLUSTER]);
    expect(granted(synth(), 'kafka-cluster:DescribeCluster')).toEqual([]);
    // Another destination than the construct's queue: no queue, no alarm on it.
    t.resourceCountIs('AWS::SQS::Queue', 1);
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).not.toContain('on-failure queue');
  });

  it('keeps its own on-failure queue, and the alarm on it, when onFailure is not given', () => {
    const t = synth();
    const queues = resourcesOf(t, 'AWS::SQS::Queue');
    const onFailure = Object.keys(queues).find((id) => id.includes('OnFailureQueue'))!;
    expect((mapping(t).DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination).toEqual({
      'Fn::GetAtt': [onFailure, 'Arn'],
    });
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).toContain(onFailure);
    for (const key of ['FilterCriteria', 'KmsKeyArn', 'LoggingConfig', 'Enabled']) expect(mapping(t)[key], key).toBeUndefined();
  });

  // Lambda guide, "Capturing discarded batches" (execution role): sns:Publish for SNS; s3:PutObject and s3:ListBucket for S3.
  // S3 destination: s3:PutObject and s3:ListBucket (see least-privilege.test.ts); deletes are denied on it too.
  it('grants publish to an SNS destination and writes to an S3 destination, with no queue of its own', () => {
    const viaSns = synth({ onFailure: new sources.SnsDlq(sns.Topic.fromTopicArn(imports, 'Failures', TOPIC_ARN)) });
    expect(mapping(viaSns).DestinationConfig).toEqual({ OnFailure: { Destination: TOPIC_ARN } });
    expect(granted(viaSns, 'sns:Publish')[0]?.Resource).toBe(TOPIC_ARN);
    viaSns.resourceCountIs('AWS::SQS::Queue', 1);

    const viaS3 = synth({ onFailure: new sources.S3OnFailureDestination(s3.Bucket.fromBucketArn(imports, 'FailureBucket', BUCKET_ARN)) });
    expect(mapping(viaS3).DestinationConfig).toEqual({ OnFailure: { Destination: BUCKET_ARN } });
    expect(granted(viaS3, 's3:PutObject').some((s) => JSON.stringify(s.Resource).includes(BUCKET_ARN))).toBe(true);
    expect(granted(viaS3, 's3:List*').length + granted(viaS3, 's3:ListBucket').length).toBeGreaterThan(0);
    const deletes = statements(viaS3).filter((s) => [s.Action].flat().includes('s3:DeleteObject*'));
    expect(deletes.filter((s) => s.Effect === 'Deny').map((s) => JSON.stringify(s.Resource))).toEqual([
      expect.stringContaining(`${BUCKET_ARN.replace('arn:aws:', '')}/*`),
    ]);
  });

  // Lambda guide, "Using a Kafka topic as an on-failure destination": recursion prevention.
  it('refuses a failure topic that is one of the topics it reads', () => {
    expect(() => synth({ onFailure: new sources.KafkaDlq('orders') })).toThrow(
      'onFailure is kafka://orders, one of the topics this consumer reads',
    );
  });

  // Lambda guide, "Using a Kafka topic as an on-failure destination", Requirements and limitations:
  // "Provisioned mode required – A Kafka on-failure destination is only available for event source
  // mappings with provisioned mode enabled."
  it('refuses a Kafka failure topic on demand, naming the prop, its value and the way out', () => {
    expect(() => synth({ pollerMode: 'on-demand', onFailure: new sources.KafkaDlq('orders-failed') })).toThrow(
      "onFailure is kafka://orders-failed (sources.KafkaDlq), but pollerMode is on-demand: Lambda sends failed records to a Kafka topic only in provisioned mode. Use pollerMode 'provisioned' (the default), or another destination",
    );
    expect(mapping(synth({ onFailure: new sources.KafkaDlq('orders-failed') })).ProvisionedPollerConfig).toBeDefined();
  });

  // CloudFormation AWS::Lambda::EventSourceMapping: Topics items match ^[^.]([a-zA-Z0-9\-_.]+)
  // (at least two characters, no leading dot); OnFailure.Destination is 12–1024 characters matching
  // kafka://([^.]([a-zA-Z0-9\-_.]{0,248})) for a topic. aws-cdk-lib's bundled CloudFormation schemas
  // (CLOUDFORMATION_SCHEMAS) refuse the same at synth, after the construct is built: these messages are the construct's.
  it.each([
    [{ topics: ['a'] }, 'topic "a" is not a topic name Lambda takes: give 2–249 characters'],
    [{ topics: ['.hidden'] }, 'topic ".hidden" is not a topic name Lambda takes'],
    [{ topics: ['orders', 'x'.repeat(250)] }, 'is not a topic name Lambda takes'],
    [
      { onFailure: new sources.KafkaDlq('.hidden') },
      'onFailure is kafka://.hidden; CloudFormation takes a failure topic of 4–249 characters',
    ],
    [{ onFailure: new sources.KafkaDlq('abc') }, 'onFailure is kafka://abc; CloudFormation takes a failure topic of 4–249 characters'],
  ])('refuses topic names CloudFormation refuses: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  it('takes the shortest topic names CloudFormation takes', () => {
    expect(mapping(synth({ topics: ['ab'] })).Topics).toEqual(['ab']);
    expect(mapping(synth({ onFailure: new sources.KafkaDlq('abcd') })).DestinationConfig).toEqual({
      OnFailure: { Destination: 'kafka://abcd' },
    });
  });

  // CloudFormation AWS::Lambda::EventSourceMapping FilterCriteria.Filters: minItems 1.
  it('refuses an empty filter list, from props and from context', () => {
    expect(() => synth({ filters: [] })).toThrow(
      'filters is []; CloudFormation takes at least one filter: give one, or leave filters out to send every record to the function.',
    );
    expect(() => validateMappingSettings(mappingSettingsFromContext((key) => ({ topics: 'orders', filters: '[]' })[key]))).toThrow(
      'filters is []',
    );
  });

  // Lambda guide, "Filtering events from Amazon MSK and self-managed Apache Kafka event sources": value key only.
  it('refuses filters on anything but value, and malformed rules, naming the filter', () => {
    expect(() => synth({ filters: [lambda.FilterCriteria.filter({ key: { id: lambda.FilterRule.isEqual('1') } })] })).toThrow(
      /filters\[0\].*"value" only/,
    );
    expect(() => synth({ filters: [orderFilter, { pattern: '{"value": {"kind": [{"contains": "x"}]}}' }] })).toThrow(
      'filters[1].value.kind[0]: unknown operator "contains"',
    );
  });

  // aws-cdk-lib README, Kafka section: filterEncryption encrypts the filter criteria with your key.
  // Lambda guide, "Encryption of filter criteria": the key policy must allow kms:Decrypt to "the
  // regional Lambda service principal (lambda.AWS_region.amazonaws.com)", with aws:SourceArn the
  // mapping's ARN; kms:GenerateDataKey, kms:DescribeKey and kms:Decrypt to whoever creates the mapping.
  it("encrypts the filters with filterEncryption, and says what an imported key's policy needs", () => {
    const { stack, template } = synthStack({ filters: [orderFilter], filterEncryption: kms.Key.fromKeyArn(imports, 'FilterKey', KEY) });
    expect(mapping(template).KmsKeyArn).toBe(KEY);
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp(
        'filterEncryption is an imported key.*lambda\\.<region>\\.amazonaws\\.com.*aws:SourceArn.*kms:GenerateDataKey, kms:DescribeKey and kms:Decrypt',
      ),
    );
    expect(() => synth({ filterEncryption: kms.Key.fromKeyArn(imports, 'LoneKey', KEY) })).toThrow(
      'filterEncryption is set but filters is not',
    );
  });

  it("lets the regional Lambda principal decrypt the filters with a key of the stack, for this account's mappings", () => {
    const stack = new Stack(new App({ context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } }), 'Own', {
      env: { account: '123456789012', region: 'eu-west-1' },
    });
    new KafkaConsumer(stack, 'Orders', { ...base, filters: [orderFilter], filterEncryption: new kms.Key(stack, 'FilterKey') });
    const policy = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::KMS::Key'))[0]!.Properties.KeyPolicy as {
      Statement: Array<Record<string, unknown>>;
    };
    expect(policy.Statement).toContainEqual({
      Effect: 'Allow',
      Principal: { Service: 'lambda.eu-west-1.amazonaws.com' },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: {
        ArnLike: {
          'aws:SourceArn': {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:eu-west-1:123456789012:event-source-mapping:*']],
          },
        },
      },
    });
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('filterEncryption'))).toEqual([]);
  });

  // aws-cdk-lib README, "Kafka Observability Features": LogLevel and MetricsConfig only in provisioned mode.
  // Lambda guide, "Using schema registries with Kafka event sources": provisioned mode only.
  it.each([
    [
      { metricsConfig: { metrics: [lambda.MetricType.KAFKA_METRICS] } },
      'metricsConfig needs provisioned mode, but pollerMode is on-demand',
    ],
    [{ logLevel: lambda.EventSourceMappingLogLevel.WARN }, 'logLevel needs provisioned mode'],
    [
      {
        schemaRegistryConfig: new sources.GlueSchemaRegistry({
          schemaRegistryArn: REGISTRY,
          eventRecordFormat: lambda.EventRecordFormat.SOURCE,
          schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
        }),
      },
      'schemaRegistryConfig needs provisioned mode',
    ],
    [{ pollerGroupName: 'shared' }, 'pollerGroupName needs provisioned mode'],
  ])('on demand, refuses %j naming it', (props, message) => {
    expect(() => synth({ pollerMode: 'on-demand', ...props })).toThrow(message);
  });

  it('refuses an empty metricsConfig and two different poller group names', () => {
    expect(() => synth({ metricsConfig: { metrics: [] } })).toThrow(
      'metricsConfig is []; give one or more of EventCount, ErrorCount, KafkaMetrics',
    );
    expect(() => synth({ pollerGroupName: 'a', provisionedPollerConfig: { pollerGroupName: 'b' } })).toThrow(
      'pollerGroupName is "a" and provisionedPollerConfig.pollerGroupName is "b"',
    );
  });

  it('passes enabled through, so a mapping can be created paused', () => {
    expect(mapping(synth({ enabled: false })).Enabled).toBe(false);
  });

  it('takes the Confluent schema registry and grants its secret', () => {
    const t = synth({
      schemaRegistryConfig: new sources.ConfluentSchemaRegistry({
        schemaRegistryUri: 'https://registry.example.com',
        eventRecordFormat: lambda.EventRecordFormat.SOURCE,
        authenticationType: lambda.KafkaSchemaRegistryAccessConfigType.BASIC_AUTH,
        secret: secretsmanager.Secret.fromSecretCompleteArn(imports, 'RegistrySecret', SECRET),
        schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.KEY }],
      }),
    });
    expect((mapping(t).AmazonManagedKafkaEventSourceConfig as { SchemaRegistryConfig: unknown }).SchemaRegistryConfig).toEqual({
      SchemaRegistryURI: 'https://registry.example.com',
      EventRecordFormat: 'SOURCE',
      AccessConfigs: [{ Type: 'BASIC_AUTH', URI: SECRET }],
      SchemaValidationConfigs: [{ Attribute: 'KEY' }],
    });
    expect(granted(t, 'secretsmanager:GetSecretValue').some((s) => s.Resource === SECRET)).toBe(true);
    expect(granted(t, 'kms:Decrypt')).toEqual([]); // a secret under the AWS managed key needs no grant
  });

  // Lambda guide, "Configuring Lambda permissions for Amazon MSK event source mappings" (optional
  // permissions): kms:Decrypt for secrets encrypted with a customer managed key, the schema
  // registry's included. aws-cdk-lib's ConfluentSchemaRegistry grants the read of the secret, and
  // ISecret.grantRead adds no kms:Decrypt for a key imported by ARN.
  it("lets the mapping decrypt a Confluent registry's secret under a customer managed key, through Secrets Manager only", () => {
    const t = synth({
      schemaRegistryConfig: new sources.ConfluentSchemaRegistry({
        schemaRegistryUri: 'https://registry.example.com',
        eventRecordFormat: lambda.EventRecordFormat.JSON,
        authenticationType: lambda.KafkaSchemaRegistryAccessConfigType.BASIC_AUTH,
        secret: secretsmanager.Secret.fromSecretAttributes(imports, 'RegistrySecretWithKey', {
          secretCompleteArn: SECRET,
          encryptionKey: kms.Key.fromKeyArn(imports, 'RegistryKey', KEY),
        }),
        schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
      }),
    });
    expect(granted(t, 'kms:Decrypt')).toEqual([
      expect.objectContaining({
        Resource: KEY,
        Condition: {
          StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
        },
      }),
    ]);
  });

  // CloudFormation AWS::Lambda::EventSourceMapping SchemaRegistryConfig.SchemaValidationConfigs:
  // 1–2 items, unique; aws-cdk-lib passes an empty list through.
  it.each([
    [[], "schemaRegistryConfig's schemaValidationConfigs is []; CloudFormation takes one or two distinct attributes"],
    [
      [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }, { attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
      'schemaValidationConfigs is [VALUE, VALUE]',
    ],
  ])('refuses schemaValidationConfigs %j', (schemaValidationConfigs, message) => {
    expect(() =>
      synth({
        schemaRegistryConfig: new sources.GlueSchemaRegistry({
          schemaRegistryArn: REGISTRY,
          eventRecordFormat: lambda.EventRecordFormat.SOURCE,
          schemaValidationConfigs,
        }),
      }),
    ).toThrow(message);
  });

  // Issue 29, item 2. Glue developer guide, "Getting started with schema registry", IAM examples
  // for deserializers (https://docs.aws.amazon.com/glue/latest/dg/schema-registry-gs.html): the
  // deserializer's policy grants glue:GetSchemaVersion on "Resource": ["*"]; the Glue Schema
  // Registry maintainers: "you would have to use the * permissions for getSchemaVersion"
  // (https://github.com/awslabs/aws-glue-schema-registry/issues/68), "GetSchemaVersion does not
  // support resource based policies yet" (…/issues/151). aws-cdk-lib grants it on the registry's
  // schemas only; glue:GetRegistry stays on the registry.
  it('grants glue:GetSchemaVersion on "*" (acknowledged to cdk-nag), glue:GetRegistry on the registry alone', () => {
    const glue = new sources.GlueSchemaRegistry({
      schemaRegistryArn: REGISTRY,
      eventRecordFormat: lambda.EventRecordFormat.SOURCE,
      schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
    });
    const app = new App({ context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } });
    const stack = new KafkaConsumersStack(app, 'Glue', {
      env: { account: '123456789012', region: 'us-east-1' },
      consumer: { ...base, schemaRegistryConfig: glue },
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const t = Template.fromStack(stack); // synth fails on a cdk-nag finding nobody acknowledged
    expect(granted(t, 'glue:GetSchemaVersion').map((s) => s.Resource)).toContain('*');
    expect(granted(t, 'glue:GetRegistry').map((s) => s.Resource)).toEqual([REGISTRY]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Glue registry of account'))).toEqual([]);
  });

  // No resource-based policy exists for Glue schema registries (the maintainers, when asked for
  // cross-account access: https://github.com/awslabs/aws-glue-schema-registry/pull/209, "Glue
  // Registry does not support resource permissions"), and the mapping reads with the function's role.
  it('warns that a Glue registry in another account cannot be read by the mapping', () => {
    const other = 'arn:aws:glue:eu-west-1:210987654321:registry/other';
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Away', {
      env: { account: '123456789012', region: 'us-east-1' },
    });
    new KafkaConsumer(stack, 'Orders', {
      ...base,
      schemaRegistryConfig: new sources.GlueSchemaRegistry({
        schemaRegistryArn: other,
        eventRecordFormat: lambda.EventRecordFormat.SOURCE,
        schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
      }),
    });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Glue registry of account 210987654321'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toContain('Use a registry in the function');
    expect(granted(Template.fromStack(stack), 'glue:GetSchemaVersion').map((s) => s.Resource)).toContain('*');
  });
});

// Lambda guide, "Configuring self-managed Apache Kafka event sources" (authentication): SASL/SCRAM-256/512,
// SASL/PLAIN (BASIC_AUTH), mTLS (CLIENT_CERTIFICATE_TLS_AUTH) and SERVER_ROOT_CA_CERTIFICATE for a private CA.
// The consumer alone: the stack's replay function speaks SASL/SCRAM only (see the README).
describe('self-managed authentication (deploy contract)', () => {
  let n = 0;
  const selfManaged = (extra: object): Partial<KafkaConsumerProps> => ({
    cluster: {
      kind: 'self-managed',
      bootstrapServers: ['broker-1:9096'],
      authSecret: secretsmanager.Secret.fromSecretCompleteArn(imports, `Auth${n++}`, SECRET),
      ...extra,
    },
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
    expect(() =>
      synth({
        cluster: { kind: 'self-managed', bootstrapServers: ['b:9092'], authenticationMethod: sources.AuthenticationMethod.BASIC_AUTH },
      }),
    ).toThrow('cluster.authenticationMethod is BASIC_AUTH but cluster.authSecret is not set');
  });
});
