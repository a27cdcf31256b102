// Issue 28, class 10: what the consumer's role and the filter key allow around an S3 on-failure
// destination and encrypted filters, and nothing more.
// - Lambda guide, "Capturing discarded batches for an Amazon MSK event source"
//   (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-on-failure.html): the execution role
//   needs s3:PutObject and s3:ListBucket for an S3 destination, and kms:GenerateDataKey when the
//   bucket is encrypted with your own KMS key. aws-cdk-lib 2.276's S3OnFailureDestination grants
//   read-write instead (bucket.grantReadWrite: GetObject*, List*, DeleteObject*, …), which let user
//   code read, and with the replay put back, any discarded batch.
// - Lambda guide, "Encryption of filter criteria": the key policy allows kms:Decrypt to the regional
//   Lambda service principal with aws:SourceArn the mapping. aws-cdk-lib's filterEncryption adds an
//   unconditioned statement for the global lambda.amazonaws.com to a key of the stack.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { KafkaConsumer } from '../../../src/constructs/kafka-consumer.js';
import { CLOUDFORMATION_SCHEMAS, base, resourcesOf } from './support.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Principal?: unknown; Condition?: unknown };

function stackWith(build: (stack: Stack) => Partial<ConstructorParameters<typeof KafkaConsumer>[2]>) {
  const stack = new Stack(new App({ context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } }), 'LeastPrivilege', {
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  const consumer = new KafkaConsumer(stack, 'Orders', { ...base, ...build(stack) });
  return { consumer, template: Template.fromStack(stack), stack };
}

const roleStatements = (t: Template, roleRef: string): Statement[] =>
  Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === roleRef))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const mentions = (s: Statement, logicalId: string) => JSON.stringify(s.Resource).includes(logicalId);

describe('an S3 on-failure destination: the role may write discarded batches, not read them (deploy contract)', () => {
  it('grants s3:ListBucket on the bucket and s3:PutObject on its objects, nothing else allowed on it', () => {
    const { consumer, template, stack } = stackWith((s) => ({
      onFailure: new sources.S3OnFailureDestination(new s3.Bucket(s, 'Failures')),
    }));
    const bucketId = stack.getLogicalId(consumer.onFailureBucket!.node.defaultChild as s3.CfnBucket);
    const role = stack.getLogicalId(consumer.function.role!.node.defaultChild as iam.CfnRole);
    const onBucket = roleStatements(template, role).filter((s) => mentions(s, bucketId));
    expect(onBucket.filter((s) => s.Effect === 'Allow').map((s) => [s.Action, JSON.stringify(s.Resource)])).toEqual([
      ['s3:ListBucket', JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] })],
      ['s3:PutObject', JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] })],
    ]);
    expect(onBucket.filter((s) => s.Effect === 'Deny').map((s) => s.Action)).toEqual(['s3:DeleteObject*']); // kept: defence in depth
    const json = JSON.stringify(template.toJSON());
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*', 's3:PutObjectLegalHold'])
      expect(json).not.toContain(`"${action}"`);
    expect(consumer.onFailureBucket).toBeDefined(); // still read by DeadLetterReplay
  });

  it('grants kms:GenerateDataKey, and no decrypt, on the key of a bucket under a customer managed key', () => {
    const { consumer, template, stack } = stackWith((s) => ({
      onFailure: new sources.S3OnFailureDestination(new s3.Bucket(s, 'Failures', { encryption: s3.BucketEncryption.KMS })),
    }));
    const keyId = Object.keys(resourcesOf(template, 'AWS::KMS::Key')).find((id) => id.startsWith('FailuresKey'))!;
    const role = stack.getLogicalId(consumer.function.role!.node.defaultChild as iam.CfnRole);
    const onKey = roleStatements(template, role).filter((s) => mentions(s, keyId));
    expect(onKey.map((s) => [s.Effect, s.Action])).toEqual([['Allow', 'kms:GenerateDataKey']]);
  });

  it('passes other destinations through as aws-cdk-lib binds them', () => {
    const { template } = stackWith(() => ({ onFailure: new sources.KafkaDlq('orders-failed') }));
    expect(Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'))[0]!.Properties.DestinationConfig).toEqual({
      OnFailure: { Destination: 'kafka://orders-failed' },
    });
  });
});

describe('the filter key of the stack: only the regional, aws:SourceArn-scoped Lambda statement (deploy contract)', () => {
  const orderFilter = lambda.FilterCriteria.filter({ value: { kind: lambda.FilterRule.isEqual('order') } });

  it('encrypts the filters of every mapping with the key, and its policy names no global lambda.amazonaws.com', () => {
    const { template } = stackWith((s) => ({
      topics: ['orders', 'refunds'],
      filters: [orderFilter],
      filterEncryption: new kms.Key(s, 'FilterKey'),
    }));
    const [keyId, key] = Object.entries(resourcesOf(template, 'AWS::KMS::Key'))[0]!;
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.map((m) => m.Properties.KmsKeyArn)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }, { 'Fn::GetAtt': [keyId, 'Arn'] }]);
    const lambdaStatements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement.filter((s) =>
      JSON.stringify(s.Principal ?? '').includes('lambda'),
    );
    expect(lambdaStatements).toEqual([
      {
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
      },
    ]);
  });
});
