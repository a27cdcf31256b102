// The S3 on-failure destination with the grant Lambda needs and nothing more.
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import { onFailureBucketOf } from './cdk-internals.js';

/**
 * `onFailure` as the mapping binds it. aws-cdk-lib's `S3OnFailureDestination` grants the
 * function's role read-write on the whole bucket (GetObject*, List*, DeleteObject*, …), which lets
 * user code read, and so replay, every discarded batch kept there. Lambda writes to an S3
 * destination with the role and needs `s3:PutObject` and `s3:ListBucket`, plus
 * `kms:GenerateDataKey` for a bucket under a customer managed key (Lambda guide, "Capturing
 * discarded batches for an Amazon MSK event source",
 * https://docs.aws.amazon.com/lambda/latest/dg/with-msk-on-failure.html): an S3 destination is
 * bound with exactly those. Any other destination is returned as it is.
 */
export function leastPrivilegeOnFailure(onFailure: lambda.IEventSourceDlq): lambda.IEventSourceDlq {
  if (!(onFailure instanceof sources.S3OnFailureDestination)) return onFailure;
  const bucket = onFailureBucketOf(onFailure);
  return {
    bind(_target, handler) {
      handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
      handler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects('*')] }));
      bucket.encryptionKey?.grant(handler, 'kms:GenerateDataKey');
      return { destination: bucket.bucketArn };
    },
  };
}
