// Issue 32: the idempotency ledger's table, as KafkaConsumer's `idempotency` prop creates it or
// takes it, what the function may do on it, and how long an entry must live.
// - CloudFormation AWS::DynamoDB::Table (BillingMode PAY_PER_REQUEST, TimeToLiveSpecification,
//   SSESpecification, PointInTimeRecoverySpecification):
//   https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html
// - DynamoDB API reference, UpdateTimeToLive: TTL compares the attribute, "the number of seconds
//   elapsed since 12:00:00 AM January 1, 1970 UTC", with the current time; "DynamoDB typically
//   deletes expired items within two days of expiration … Items that have expired and not been
//   deleted will still show up in reads" (so the runtime checks `expiresAt` itself):
//   https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html
// - Lambda guide, "Giving Lambda functions access to resources in an Amazon VPC": a function not
//   connected to a VPC runs in Lambda's own, "with access to AWS services and the internet":
//   https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { KafkaConsumer } from '../../../src/constructs/kafka-consumer.js';
import type { KafkaConsumerProps } from '../../../src/constructs/kafka-consumer-props.js';
import { DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS, ENV, IDEMPOTENCY_ACTIONS } from '../../../src/contract/index.js';
import { CLOUDFORMATION_SCHEMAS, base, resourcesOf, synth } from './support.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
const statements = (t: Template): Statement[] =>
  Object.values(resourcesOf(t, 'AWS::IAM::Policy')).flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const actionsOf = (s: Statement) => [s.Action].flat();
const consumerFunction = (t: Template) =>
  Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) => JSON.stringify(f.Properties).includes(ENV.deadLetterBucket))!
    .Properties as { Environment: { Variables: Record<string, unknown> }; VpcConfig?: unknown };

function inStack(consumer: (stack: Stack) => Partial<KafkaConsumerProps>) {
  const stack = new Stack(new App({ context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } }), 'Ledger', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  new KafkaConsumer(stack, 'Orders', { ...base, ...consumer(stack) });
  return { stack, template: Template.fromStack(stack) };
}

describe('the idempotency ledger (deploy contract)', () => {
  it('is off by default: no table, no IDEMPOTENCY_TABLE, no DynamoDB action granted', () => {
    const t = synth();
    expect(Object.keys(resourcesOf(t, 'AWS::DynamoDB::Table'))).toEqual([]);
    expect(consumerFunction(t).Environment.Variables[ENV.idempotencyTable]).toBeUndefined();
    expect(
      statements(t)
        .flatMap(actionsOf)
        .filter((a) => a.startsWith('dynamodb:')),
    ).toEqual([]);
  });

  it('true creates an on-demand table keyed by id (a string), TTL on expiresAt, point-in-time recovery, retained, and names it in IDEMPOTENCY_TABLE', () => {
    const t = synth({ idempotency: true });
    const tables = t.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(1);
    const [id, table] = Object.entries(tables)[0]!;
    expect(table).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    // SSEEnabled false: DynamoDB's AWS owned key, as the queues use SQS's and the bucket S3's own keys.
    expect((table as { Properties: Record<string, unknown> }).Properties.SSESpecification).toEqual({ SSEEnabled: false });
    expect(consumerFunction(t).Environment.Variables[ENV.idempotencyTable]).toEqual({ Ref: id });
  });

  it('grants exactly the actions the runtime calls (IDEMPOTENCY_ACTIONS), on that table only', () => {
    const t = synth({ idempotency: true });
    const id = Object.keys(resourcesOf(t, 'AWS::DynamoDB::Table'))[0]!;
    const onDynamoDb = statements(t).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(onDynamoDb).toEqual([{ Effect: 'Allow', Action: [...IDEMPOTENCY_ACTIONS], Resource: [{ 'Fn::GetAtt': [id, 'Arn'] }] }]);
  });

  it("encrypts the table with the consumer's encryptionKey, and lets the function use the key only through DynamoDB", () => {
    const { template } = inStack((stack) => ({ encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }), idempotency: true }));
    const keyId = Object.keys(resourcesOf(template, 'AWS::KMS::Key'))[0]!;
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
    const throughDynamoDb = statements(template).filter((s) =>
      JSON.stringify(s.Condition ?? {}).includes('dynamodb.eu-west-1.amazonaws.com'),
    );
    expect(throughDynamoDb).toEqual([
      {
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
      },
    ]);
  });

  it("takes the user's table (a TableV2 imported by name): creates none, grants on it, names it", () => {
    const { template } = inStack((stack) => ({
      idempotency: { table: dynamodb.TableV2.fromTableName(stack, 'Ledger', 'orders-ledger') },
    }));
    expect(Object.keys(resourcesOf(template, 'AWS::DynamoDB::Table'))).toEqual([]);
    expect(consumerFunction(template).Environment.Variables[ENV.idempotencyTable]).toBe('orders-ledger');
    const onDynamoDb = statements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(onDynamoDb).toHaveLength(1);
    expect(actionsOf(onDynamoDb[0]!)).toEqual([...IDEMPOTENCY_ACTIONS]);
    expect(JSON.stringify(onDynamoDb[0]!.Resource)).toContain(':table/orders-ledger');
  });

  it("grants the key of the user's table when it is known (a Table of the stack under a customer managed key)", () => {
    const { template } = inStack((stack) => ({
      idempotency: {
        table: new dynamodb.Table(stack, 'Own', {
          partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
          encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
          encryptionKey: new kms.Key(stack, 'OwnKey'),
        }),
      },
    }));
    expect(
      statements(template).filter((s) => actionsOf(s).includes('kms:Decrypt') && JSON.stringify(s.Condition ?? {}).includes('dynamodb.')),
    ).toHaveLength(1);
  });

  it('runs the function outside the cluster VPC, so it reaches DynamoDB without a VPC endpoint (none is created)', () => {
    const t = synth(
      { idempotency: true },
      { clusterVpcIds: { vpcId: 'vpc-0abc1234', subnetIds: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-0c0c0c0c'] } },
    );
    expect(consumerFunction(t).VpcConfig).toBeUndefined();
    const services = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(services.length).toBeGreaterThan(0); // the mapping's and the replay's endpoints
    expect(services.filter((s) => s.includes('dynamodb'))).toEqual([]);
  });

  it('refuses environment.IDEMPOTENCY_TABLE, naming the idempotency prop', () => {
    expect(() => synth({ environment: { [ENV.idempotencyTable]: 'mine' } })).toThrow(
      'environment.IDEMPOTENCY_TABLE is set, but KafkaConsumer sets IDEMPOTENCY_TABLE itself, to the idempotency ledger it creates or is given, and grants the function: give the prop idempotency instead.',
    );
  });
});

describe("the ledger's expiry (deploy contract)", () => {
  it.each([
    [
      { maxRecordAge: Duration.hours(2), idempotency: { expiry: Duration.hours(1) } },
      'idempotency.expiry is 3600 s, shorter than maxRecordAge (7200 s): the mapping redelivers records up to that age',
    ],
    [
      { timeout: Duration.minutes(5), idempotency: { expiry: Duration.minutes(2) } },
      'idempotency.expiry is 120 s, shorter than timeout (300 s): a batch retried after a timeout comes back at least that late',
    ],
    [{ idempotency: { expiry: Duration.millis(1_500) } }, "the ledger's expiry is whole seconds (DynamoDB's TTL reads epoch seconds)"],
  ])('refuses %j, naming the prop', (props, message) => {
    expect(() => synth(props as Partial<KafkaConsumerProps>)).toThrow(message);
  });

  it('passes the expiry to the runtime in IDEMPOTENCY_EXPIRY_SECONDS (its default expirySeconds): 14 days unless given', () => {
    const variables = (props: Partial<KafkaConsumerProps>) => consumerFunction(synth(props)).Environment.Variables;
    expect(variables({ idempotency: { expiry: Duration.days(3) } })[ENV.idempotencyExpirySeconds]).toBe('259200');
    expect(variables({ idempotency: true })[ENV.idempotencyExpirySeconds]).toBe(String(DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS));
    expect(variables({})[ENV.idempotencyExpirySeconds]).toBeUndefined();
  });

  it('refuses environment.IDEMPOTENCY_EXPIRY_SECONDS, naming the idempotency.expiry prop', () => {
    expect(() => synth({ environment: { [ENV.idempotencyExpirySeconds]: '60' } })).toThrow(
      'environment.IDEMPOTENCY_EXPIRY_SECONDS is set, but KafkaConsumer sets IDEMPOTENCY_EXPIRY_SECONDS itself',
    );
    expect(() => synth({ environment: { [ENV.idempotencyExpirySeconds]: '60' } })).toThrow('give the prop idempotency.expiry instead.');
  });

  it('warns when it is shorter than the dead-letter retention: a dead letter replayed after its entry expired runs again', () => {
    const { stack } = inStack(() => ({ deadLetterRetention: Duration.days(7), idempotency: { expiry: Duration.days(3) } }));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('shorter than deadLetterRetention'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toContain('runs again when its dead letter is replayed after its ledger entry expired');
  });

  it('by default (14 days) covers the longest dead-letter retention and record age: no error, no warning', () => {
    const { stack } = inStack(() => ({ deadLetterRetention: Duration.days(14), maxRecordAge: Duration.days(7), idempotency: true }));
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('idempotency'))).toEqual([]);
  });
});
