// Issue 35: what KafkaConsumer's failureMode sets up on AWS.
// - block must never let Lambda skip a record (docs/aws-contracts.md §14). Lambda guide,
//   "Configuring error handling controls for Kafka event sources"
//   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html): retry attempts,
//   record age, split batch and partial batch responses are configured only in provisioned mode;
//   "Maximum retry attempts … The default is -1 (infinite). When you configure both infinite retries
//   and an on-failure destination, Lambda automatically applies a maximum of 10 retry attempts";
//   "Maximum record age – The maximum age of a record that Lambda sends to your function".
//   CreateEventSourceMapping (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html):
//   MaximumRetryAttempts "Discard records after the specified number of retries",
//   MaximumRecordAgeInSeconds "Discard records older than the specified age". Lambda guide, "Using
//   schema registries with Kafka event sources": records that fail validation go to the on-failure
//   destination, and without one are dropped (CONTRACTS §3a).
// - The alarm: CloudWatch alarms, "M out of N" (datapointsToAlarm of evaluationPeriods):
//   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
// - park-key's table and grants: the actions the runtime and the replay call (PARKING_*_ACTIONS);
//   s3:prefix condition on ListBucket (Service Authorization Reference, Amazon S3:
//   https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html).
import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConstructPropsError } from '../../../src/constructs/errors.js';
import type { KafkaConsumerProps } from '../../../src/constructs/kafka-consumer-props.js';
import {
  DEAD_LETTER_PREFIX,
  ENV,
  PARKED_RECORDS_PREFIX,
  PARKING_CONSUMER_ACTIONS,
  PARKING_REPLAY_ACTIONS,
} from '../../../src/contract/index.js';
import { resourcesOf, synth, synthStack } from './support.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
type Fn = { Environment: { Variables: Record<string, unknown> } };
const policiesOf = (t: Template) => Object.values(resourcesOf(t, 'AWS::IAM::Policy'));
const statementsOf = (p: { Properties: Record<string, unknown> }) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
const actionsOf = (s: Statement) => [s.Action].flat();
const functions = (t: Template) => Object.values(resourcesOf(t, 'AWS::Lambda::Function')).map((f) => f.Properties as unknown as Fn);
const consumerFn = (t: Template) => functions(t).find((f) => f.Environment?.Variables[ENV.failureMode])!;
const replayFn = (t: Template) => functions(t).find((f) => f.Environment?.Variables[ENV.replayMaxCount])!;
const mapping = (t: Template) => Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'))[0]!.Properties;
/** The statements of the policies attached to the role of the function whose env has `marker`. */
function statementsOfRole(t: Template, marker: string): Statement[] {
  const fnEntry = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) => JSON.stringify(f.Properties).includes(marker))!;
  const role = JSON.stringify((fnEntry.Properties as { Role: unknown }).Role);
  return policiesOf(t)
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(role.match(/"([A-Za-z0-9]+)"/)![1]!))
    .flatMap(statementsOf);
}
const refuse = (props: Partial<KafkaConsumerProps>) => {
  try {
    synth({ failureMode: 'block', ...props });
  } catch (error) {
    expect(error).toBeInstanceOf(ConstructPropsError);
    expect((error as ConstructPropsError).prop).toBe('failureMode');
    return (error as Error).message;
  }
  throw new Error('synth did not refuse');
};

describe('failureMode (deploy contract)', () => {
  it("is 'dead-letter' by default: FAILURE_MODE=dead-letter, the on-failure queue as the destination, no blocked-partition alarm", () => {
    const t = synth();
    expect(consumerFn(t).Environment.Variables[ENV.failureMode]).toBe('dead-letter');
    expect(mapping(t).DestinationConfig).toBeDefined();
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm')).filter((id) => id.includes('PartitionBlocked'))).toEqual([]);
  });

  describe("'block'", () => {
    it('sets FAILURE_MODE=block; the mapping has no destination, infinite retries and record age (-1, set explicitly), no bisection, partial batch responses on', () => {
      const { template: t, stack } = synthStack({ failureMode: 'block' });
      expect(consumerFn(t).Environment.Variables[ENV.failureMode]).toBe('block');
      const m = mapping(t);
      expect(m.DestinationConfig).toBeUndefined();
      // Explicit, not left out: a stack switched to block from another mode does not rely on an
      // update resetting the properties that left the template (the review of #35, F5).
      expect(m.MaximumRetryAttempts).toBe(-1);
      expect(m.MaximumRecordAgeInSeconds).toBe(-1);
      expect(m.BisectBatchOnFunctionError).toBe(false);
      expect(m.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      // No on-failure queue: the dead-letter queue is the only one; nothing references an on-failure queue.
      expect(Object.keys(resourcesOf(t, 'AWS::SQS::Queue'))).toEqual([expect.stringMatching(/DeadLetterQueue/)]);
      expect(Object.keys(t.toJSON().Outputs ?? {})).not.toContain('OnFailureQueueUrl');
      expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm')).some((id) => id.includes('SkippedBatches'))).toBe(false);
      expect(stack.consumer.onFailureQueue).toBeUndefined();
    });

    it('alarms "partition blocked" per topic: RecordsBlocked Sum ≥ 1 in 3 of 3 one-minute periods, saying where partition and offset are', () => {
      const t = synth({ failureMode: 'block', topics: ['orders', 'payments'] });
      const alarms = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => id.includes('PartitionBlockedAlarm'));
      expect(alarms).toHaveLength(2);
      expect(alarms[0]![1].Properties).toMatchObject({
        MetricName: 'RecordsBlocked',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Dimensions: [
          { Name: 'service', Value: 'Consumer' },
          { Name: 'topic', Value: 'orders' },
        ],
      });
      const description = alarms[0]![1].Properties.AlarmDescription as string;
      expect(description).toMatch(/^partition blocked/);
      expect(description).toContain('"partition blocked" (topic, partition, offset');
      expect(description).toContain('BlockedOffset');
    });

    it.each([
      [{ pollerMode: 'on-demand' as const, reportBatchItemFailures: undefined }, "pollerMode is 'on-demand'"],
      [{ retryAttempts: 10 }, 'retryAttempts is 10'],
      [{ retryAttempts: 0 }, 'retryAttempts is 0'],
      [{ maxRecordAge: Duration.hours(1) }, 'maxRecordAge is 3600 s'],
      [{ reportBatchItemFailures: false }, 'reportBatchItemFailures is false'],
      // Kafka error handling controls: "Split batch on error – … split the batch into two smaller batches and retry each separately".
      [{ bisectBatchOnError: true }, 'bisectBatchOnError is true'],
    ])('refuses %j, naming the setting and the fix', (props, named) => {
      const message = refuse(props as Partial<KafkaConsumerProps>);
      expect(message).toContain(named);
      expect(message).toMatch(/leave it out|use pollerMode 'provisioned'/);
    });

    it('refuses an onFailure destination (Lambda caps infinite retries at 10 with one) and a schema registry (it drops what fails validation)', () => {
      const stack = new Stack(new App(), 'Q');
      const onFailure = new sources.SqsDlq(new sqs.Queue(stack, 'Q'));
      expect(refuse({ onFailure })).toContain('onFailure is set: with an on-failure destination Lambda caps infinite retries at 10');
      const schemaRegistryConfig = new sources.GlueSchemaRegistry({
        schemaRegistryArn: 'arn:aws:glue:us-east-1:123456789012:registry/orders-registry',
        eventRecordFormat: lambda.EventRecordFormat.SOURCE,
        schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
      });
      expect(refuse({ schemaRegistryConfig })).toContain('schemaRegistryConfig is set: Lambda drops records that fail schema validation');
    });

    it('names every offending setting at once', () => {
      const message = refuse({ retryAttempts: 3, maxRecordAge: Duration.minutes(5), reportBatchItemFailures: false });
      expect(message).toMatch(/\(1\) retryAttempts is 3.*\(2\) maxRecordAge is 300 s.*\(3\) reportBatchItemFailures is false/);
    });
  });

  describe("'park-key'", () => {
    it("creates a table like the ledger's and names it in PARKED_KEYS_TABLE on the consumer and the replay", () => {
      const t = synth({ failureMode: 'park-key' });
      const tables = Object.entries(t.findResources('AWS::DynamoDB::Table'));
      expect(tables).toHaveLength(1);
      const [id, table] = tables[0]!;
      expect(id).toMatch(/ParkedKeysTable/);
      expect(table).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: { KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], BillingMode: 'PAY_PER_REQUEST' },
      });
      expect(consumerFn(t).Environment.Variables[ENV.parkedKeysTable]).toEqual({ Ref: id });
      expect(replayFn(t).Environment.Variables[ENV.parkedKeysTable]).toEqual({ Ref: id });
      expect(consumerFn(t).Environment.Variables[ENV.failureMode]).toBe('park-key');
    });

    it("uses the idempotency ledger's table when idempotency is on (one table)", () => {
      const t = synth({ failureMode: 'park-key', idempotency: true });
      const ids = Object.keys(t.findResources('AWS::DynamoDB::Table'));
      expect(ids).toHaveLength(1);
      expect(ids[0]).toMatch(/IdempotencyTable/);
      expect(consumerFn(t).Environment.Variables[ENV.parkedKeysTable]).toEqual({ Ref: ids[0] });
      expect(consumerFn(t).Environment.Variables[ENV.idempotencyTable]).toEqual({ Ref: ids[0] });
    });

    it('grants the consumer exactly PARKING_CONSUMER_ACTIONS: the table, and s3:PutObject on parked/* of the dead-letter bucket', () => {
      const t = synth({ failureMode: 'park-key' });
      const tableArn = { 'Fn::GetAtt': [Object.keys(t.findResources('AWS::DynamoDB::Table'))[0]!, 'Arn'] };
      const consumer = statementsOfRole(t, ENV.failureMode);
      expect(consumer.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))).toEqual([
        { Effect: 'Allow', Action: [...PARKING_CONSUMER_ACTIONS.table], Resource: [tableArn] },
      ]);
      const parked = consumer.filter((s) => JSON.stringify(s.Resource).includes('/parked/*'));
      expect(parked.map((s) => actionsOf(s))).toEqual([[...PARKING_CONSUMER_ACTIONS.parkedRecords]]);
    });

    it('grants the replay exactly PARKING_REPLAY_ACTIONS: the table, ListBucket under the prefix parked/, Get and Delete on parked/*', () => {
      const t = synth({ failureMode: 'park-key' });
      const tableArn = { 'Fn::GetAtt': [Object.keys(t.findResources('AWS::DynamoDB::Table'))[0]!, 'Arn'] };
      const replay = statementsOfRole(t, ENV.replayMaxCount);
      expect(replay.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))).toEqual([
        { Effect: 'Allow', Action: [...PARKING_REPLAY_ACTIONS.table], Resource: tableArn },
      ]);
      expect(replay.find((s) => actionsOf(s).includes('s3:ListBucket') && JSON.stringify(s.Condition).includes('parked/'))).toMatchObject({
        Condition: { StringLike: { 's3:prefix': 'parked/*' } },
      });
      const parked = replay.filter((s) => JSON.stringify(s.Resource).includes('/parked/*'));
      expect(parked.map((s) => actionsOf(s))).toEqual([[...PARKING_REPLAY_ACTIONS.parkedRecords]]);
    });

    it("lets the replay's parked/ calls through the cluster VPC's S3 endpoint", () => {
      const t = synth(
        { failureMode: 'park-key' },
        { clusterVpcIds: { vpcId: 'vpc-0abc1234', subnetIds: ['subnet-0a'], securityGroupIds: ['sg-0c0c0c0c'] } },
      );
      const s3Endpoint = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).find((e) =>
        JSON.stringify(e.Properties.ServiceName).includes('.s3'),
      )!;
      const policy = JSON.stringify(s3Endpoint.Properties.PolicyDocument);
      expect(policy).toContain('/parked/*');
      for (const action of [...PARKING_REPLAY_ACTIONS.listParkedRecords, ...PARKING_REPLAY_ACTIONS.parkedRecords])
        expect(policy).toContain(action);
    });

    it('gives the replay what its release reads: PARKED_KEYS_TABLE and DLQ_BUCKET (the parked/ objects are in the dead-letter bucket)', () => {
      const t = synth({ failureMode: 'park-key' });
      const env = replayFn(t).Environment.Variables;
      const tableId = Object.keys(t.findResources('AWS::DynamoDB::Table'))[0]!;
      expect(env[ENV.parkedKeysTable]).toEqual({ Ref: tableId });
      expect(env[ENV.deadLetterBucket]).toEqual(consumerFn(t).Environment.Variables[ENV.deadLetterBucket]);
      expect(replayFn(synth()).Environment.Variables[ENV.deadLetterBucket]).toBeUndefined();
    });

    it('grants the replay no dynamodb:DeleteItem: a release marks the item released (its epoch kept for the next parking)', () => {
      expect(PARKING_REPLAY_ACTIONS.table).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      const t = synth({ failureMode: 'park-key' });
      expect(JSON.stringify(t.toJSON())).not.toContain('dynamodb:DeleteItem');
    });

    // MSK IAM access control, "Semantics of IAM authorization policy actions and resources"
    // (https://docs.aws.amazon.com/msk/latest/developerguide/kafka-actions.html): kafka-cluster:DescribeGroup
    // is Kafka's DESCRIBE GROUP ACL, and OffsetFetch (kafkajs admin fetchOffsets) needs DESCRIBE on the group
    // (KIP-231, https://cwiki.apache.org/confluence/display/KAFKA/KIP-231%3A+Improve+the+Required+ACL+of+ListGroups+API)
    // and on the topics (the replay's DescribeTopic).
    it("grants the replay kafka-cluster:DescribeGroup on the mapping's groups on MSK (OffsetFetch), and only in park-key mode", () => {
      const groupArn = 'arn:aws:kafka:us-east-1:123456789012:group/demo/abcd-1234/orders-group-orders';
      const replay = statementsOfRole(synth({ failureMode: 'park-key' }), ENV.replayMaxCount);
      expect(replay.filter((s) => actionsOf(s).includes('kafka-cluster:DescribeGroup'))).toEqual([
        { Effect: 'Allow', Action: PARKING_REPLAY_ACTIONS.consumerGroup[0], Resource: groupArn },
      ]);
      const topics = replay.find((s) => actionsOf(s).includes('kafka-cluster:DescribeTopic'))!;
      expect(JSON.stringify(topics.Resource)).toContain('topic/demo/abcd-1234/orders');
      const deadLetter = statementsOfRole(synth(), ENV.replayMaxCount);
      expect(deadLetter.filter((s) => actionsOf(s).includes('kafka-cluster:DescribeGroup'))).toEqual([]);
    });

    it("refuses park-key without consumerGroupId, naming the fix (the release waits for the group's committed offsets)", () => {
      let error: unknown;
      try {
        synth({ failureMode: 'park-key', consumerGroupId: undefined });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConstructPropsError);
      expect((error as ConstructPropsError).prop).toBe('consumerGroupId');
      expect((error as Error).message).toContain("failureMode is 'park-key' but consumerGroupId is not set");
      expect((error as Error).message).toContain('give consumerGroupId');
    });

    // VPC guide, "Gateway endpoints for Amazon DynamoDB" (https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-ddb.html):
    // a Lambda function in a VPC without a NAT reaches DynamoDB only through an endpoint, whose policy must allow the calls;
    // the security group must allow HTTPS to the service's prefix list.
    it("lets the replay's table calls through a DynamoDB gateway endpoint of the cluster VPC (interface without route tables)", () => {
      const vpc = { vpcId: 'vpc-0abc1234', subnetIds: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-0c0c0c0c'] };
      const dynamoDbEndpoint = (t: Template) =>
        Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).find((e) => JSON.stringify(e.Properties.ServiceName).includes('dynamodb'));
      const gateway = synth({ failureMode: 'park-key' }, { clusterVpcIds: { ...vpc, routeTableIds: ['rtb-0a', 'rtb-0b'] } });
      const endpoint = dynamoDbEndpoint(gateway)!;
      expect(endpoint.Properties).toMatchObject({ VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-0a', 'rtb-0b'] });
      const tableId = Object.keys(gateway.findResources('AWS::DynamoDB::Table'))[0]!;
      expect((endpoint.Properties.PolicyDocument as { Statement: Statement[] }).Statement).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Action: [...PARKING_REPLAY_ACTIONS.table],
          Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
        }),
      ]);
      // The group the construct creates (a self-managed cluster's) gets HTTPS to DynamoDB's prefix list.
      const selfManaged = synth(
        { failureMode: 'park-key', cluster: { kind: 'self-managed', bootstrapServers: ['broker-1:9094'] } },
        { clusterVpcIds: { vpcId: vpc.vpcId, subnetIds: vpc.subnetIds, routeTableIds: ['rtb-0a', 'rtb-0b'] } },
      );
      const egress = Object.values(resourcesOf(selfManaged, 'AWS::EC2::SecurityGroupEgress')).map((e) => e.Properties);
      expect(egress).toContainEqual(
        expect.objectContaining({ Description: 'Amazon DynamoDB through the gateway endpoint', FromPort: 443 }),
      );
      expect(dynamoDbEndpoint(synth({ failureMode: 'park-key' }, { clusterVpcIds: vpc }))!.Properties).toMatchObject({
        VpcEndpointType: 'Interface',
      });
      expect(dynamoDbEndpoint(synth({}, { clusterVpcIds: vpc }))).toBeUndefined();
    });

    it('expires only dead-letters/ in the dead-letter bucket: parked records wait as long as their key (a lifecycle rule without a prefix applies to every object: S3 user guide, lifecycle configuration elements, https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html)', () => {
      const t = synth({ failureMode: 'park-key', consumerGroupId: 'payments' });
      const buckets = Object.values(resourcesOf(t, 'AWS::S3::Bucket')).map(
        (b) => b.Properties as { LifecycleConfiguration?: { Rules: Array<Record<string, unknown>> } },
      );
      const rules = buckets.flatMap((b) => b.LifecycleConfiguration?.Rules ?? []);
      expect(rules).toEqual([{ ExpirationInDays: 30, Prefix: DEAD_LETTER_PREFIX, Status: 'Enabled' }]);
      expect(PARKED_RECORDS_PREFIX.startsWith(DEAD_LETTER_PREFIX)).toBe(false);
    });

    // DynamoDB guide, "AWS PrivateLink for DynamoDB"
    // (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/privatelink-interface-endpoints.html),
    // Considerations: PrivateLink for DynamoDB does not support "Private and Hybrid DNS services" (aws-cdk
    // quotes it: https://github.com/aws/aws-cdk/pull/30162), so an interface endpoint is reached by its
    // endpoint-specific name (vpce-….dynamodb.<region>.vpce.amazonaws.com), not dynamodb.<region>.amazonaws.com.
    // SDKs take a service's URL from AWS_ENDPOINT_URL_<SERVICE>
    // (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). AWS::EC2::VPCEndpoint
    // DnsEntries: "<hosted zone>:<DNS name>" strings, the regional name first (aws-cdk-lib attrDnsEntries).
    it('without route tables, gives DynamoDB an interface endpoint without private DNS, and the replay its URL in AWS_ENDPOINT_URL_DYNAMODB', () => {
      const vpc = { vpcId: 'vpc-0abc1234', subnetIds: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-0c0c0c0c'] };
      const t = synth({ failureMode: 'park-key' }, { clusterVpcIds: vpc });
      const [id, endpoint] = Object.entries(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).find(([, e]) =>
        JSON.stringify(e.Properties.ServiceName).includes('dynamodb'),
      )!;
      expect(endpoint.Properties).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: false });
      expect(endpoint.Properties.DnsOptions).toBeUndefined();
      const regionalName = { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::Select': [0, { 'Fn::GetAtt': [id, 'DnsEntries'] }] }] }] };
      expect(replayFn(t).Environment.Variables.AWS_ENDPOINT_URL_DYNAMODB).toEqual({ 'Fn::Join': ['', ['https://', regionalName]] });
      // S3 keeps its private DNS (S3 supports it); the consumer, outside the VPC, is left alone.
      const s3 = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).find((e) =>
        JSON.stringify(e.Properties.ServiceName).includes('.s3'),
      )!;
      expect(s3.Properties).toMatchObject({ PrivateDnsEnabled: true });
      expect(consumerFn(t).Environment.Variables.AWS_ENDPOINT_URL_DYNAMODB).toBeUndefined();
      // A gateway endpoint is a route: dynamodb.<region>.amazonaws.com reaches it, nothing to set.
      const gateway = synth({ failureMode: 'park-key' }, { clusterVpcIds: { ...vpc, routeTableIds: ['rtb-0a', 'rtb-0b'] } });
      expect(replayFn(gateway).Environment.Variables.AWS_ENDPOINT_URL_DYNAMODB).toBeUndefined();
    });

    it('leaves dead-letter and block without a table, PARKED_KEYS_TABLE or a parked/ grant', () => {
      for (const failureMode of ['dead-letter', 'block'] as const) {
        const t = synth({ failureMode });
        expect(Object.keys(t.findResources('AWS::DynamoDB::Table'))).toEqual([]);
        expect(consumerFn(t).Environment.Variables[ENV.parkedKeysTable]).toBeUndefined();
        expect(JSON.stringify(t.toJSON())).not.toContain('parked/');
      }
    });
  });
});
