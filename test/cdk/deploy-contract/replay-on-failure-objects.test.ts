// Issue 14: the replay function reads the consumer's S3 on-failure destination. Lambda guide,
// "Capturing discarded batches for an Amazon MSK event source" (with-msk-on-failure): an S3
// destination gets one object per discarded batch, the metadata plus the whole invocation record
// (`payload`); the mapping itself needs s3:PutObject and s3:ListBucket. The object key layout is
// documented for Kinesis and DynamoDB only (aws/lambda/<ESM-UUID>/…); the replay's grants cover
// that prefix and nothing else of the bucket. aws-cdk-lib 2.276 S3OnFailureDestination: its
// bind() returns the bucket's ARN as the mapping's destination, which is where the construct reads it.
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { DeadLetterReplay } from '../../../src/constructs/dead-letter-replay.js';
import { KafkaConsumer } from '../../../src/constructs/kafka-consumer.js';
import { CLOUDFORMATION_SCHEMAS, base, resourcesOf, synth } from './support.js';

const BUCKET_ARN = 'arn:aws:s3:::orders-failures';
/** Imported resources live in a scope of their own: their ARNs are literals, usable in any stack. */
const imports = new Stack();
const viaS3 = { onFailure: new sources.S3OnFailureDestination(s3.Bucket.fromBucketArn(imports, 'FailureBucket', BUCKET_ARN)) };
const ids = { vpcId: 'vpc-0abc1234', subnetIds: ['subnet-0a', 'subnet-0b'], securityGroupIds: ['sg-0c0c0c0c'] };

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
const replay = (t: Template) =>
  Object.entries(resourcesOf(t, 'AWS::Lambda::Function')).find(([id]) => id.startsWith('Replay'))![1].Properties;
const replayEnv = (t: Template) => (replay(t).Environment as { Variables: Record<string, unknown> }).Variables;
const replayStatements = (t: Template): Statement[] => {
  const role = (replay(t).Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return Object.values(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
};
const onBucket = (t: Template) => replayStatements(t).filter((s) => JSON.stringify(s.Resource).includes(BUCKET_ARN));

describe('the replay function and an S3 on-failure destination (deploy contract)', () => {
  it('names the bucket in ON_FAILURE_BUCKET and may list aws/lambda/, and read and delete the objects there, nothing more', () => {
    const t = synth(viaS3);
    expect(replayEnv(t).ON_FAILURE_BUCKET).toBe('orders-failures');
    expect(onBucket(t)).toEqual([
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET_ARN, Condition: { StringLike: { 's3:prefix': 'aws/lambda/*' } } },
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: `${BUCKET_ARN}/aws/lambda/*` },
    ]);
  });

  it('sets no bucket and grants nothing more without an S3 destination', () => {
    for (const t of [synth(), synth({ onFailure: new sources.KafkaDlq('orders-failed') })]) {
      expect(replayEnv(t)).not.toHaveProperty('ON_FAILURE_BUCKET');
      expect(replayStatements(t).flatMap((s) => [s.Action].flat())).not.toContain('s3:DeleteObject');
      expect(replayStatements(t).flatMap((s) => [s.Action].flat())).not.toContain('s3:ListBucket');
    }
  });

  it('may decrypt the objects of a bucket encrypted with its own KMS key (S3 needs kms:Decrypt to read SSE-KMS objects)', () => {
    const stack = new Stack(new App({ context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } }), 'Kms');
    const bucket = new s3.Bucket(stack, 'Failures', { encryption: s3.BucketEncryption.KMS });
    const consumer = new KafkaConsumer(stack, 'Orders', { ...base, onFailure: new sources.S3OnFailureDestination(bucket) });
    new DeadLetterReplay(stack, 'Replay', { consumer });
    const t = Template.fromStack(stack);
    const keyId = Object.keys(resourcesOf(t, 'AWS::KMS::Key')).find((id) => id.startsWith('FailuresKey'))!;
    const decrypts = replayStatements(t).filter((s) => [s.Action].flat().includes('kms:Decrypt'));
    expect(decrypts.map((s) => s.Resource)).toContainEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  it("lets the same calls through the cluster VPC's S3 endpoint", () => {
    const t = synth(viaS3, { clusterVpcIds: ids });
    const s3Endpoint = Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).find((e) =>
      JSON.stringify(e.Properties.ServiceName).includes('.s3'),
    )!;
    const statements = (s3Endpoint.Properties.PolicyDocument as { Statement: Statement[] }).Statement.filter((s) =>
      JSON.stringify(s.Resource).includes(BUCKET_ARN),
    );
    expect(statements.map((s) => [s.Action, s.Resource])).toContainEqual(['s3:ListBucket', BUCKET_ARN]);
    expect(statements.map((s) => [s.Action, s.Resource])).toContainEqual([
      ['s3:GetObject', 's3:DeleteObject'],
      `${BUCKET_ARN}/aws/lambda/*`,
    ]);
  });
});
