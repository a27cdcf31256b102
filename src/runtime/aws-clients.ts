// The AWS SDK is loaded only when a function first needs it: the consumer's happy path
// never imports it (DynamoDB's only with `idempotency` on, Lambda's only when an outage opens the breaker), which keeps cold starts small. Clients make one attempt per call;
// retries belong to the one RetryPolicy of this runtime. SQS calls go to the configured
// endpoint (the region's, or AWS_ENDPOINT_URL), not to the host named in the queue URL.
import type * as SqsSdk from '@aws-sdk/client-sqs';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type * as DynamoDbSdk from '@aws-sdk/client-dynamodb';
import type * as LambdaSdk from '@aws-sdk/client-lambda';

type SqsModule = typeof SqsSdk;
type S3Module = typeof S3Sdk;
type DynamoDbModule = typeof DynamoDbSdk;
type LambdaModule = typeof LambdaSdk;

let sqs: Promise<{ sdk: SqsModule; client: InstanceType<SqsModule['SQSClient']> }> | undefined;
let s3: Promise<{ sdk: S3Module; client: InstanceType<S3Module['S3Client']> }> | undefined;
let dynamoDb: Promise<{ sdk: DynamoDbModule; client: InstanceType<DynamoDbModule['DynamoDBClient']> }> | undefined;
let lambda: Promise<{ sdk: LambdaModule; client: InstanceType<LambdaModule['LambdaClient']> }> | undefined;

export function loadSqs() {
  return (sqs ??= import('@aws-sdk/client-sqs').then((sdk) => ({
    sdk,
    client: new sdk.SQSClient({ maxAttempts: 1, useQueueUrlAsEndpoint: false }),
  })));
}

export function loadS3() {
  return (s3 ??= import('@aws-sdk/client-s3').then((sdk) => ({ sdk, client: new sdk.S3Client({ maxAttempts: 1 }) })));
}

/** DynamoDB, for the idempotency ledger; `AWS_ENDPOINT_URL_DYNAMODB` (or `AWS_ENDPOINT_URL`) points it at a local server. */
export function loadDynamoDb() {
  return (dynamoDb ??= import('@aws-sdk/client-dynamodb').then((sdk) => ({ sdk, client: new sdk.DynamoDBClient({ maxAttempts: 1 }) })));
}

/** Lambda, for the outage breaker's calls on event source mappings; `AWS_ENDPOINT_URL_LAMBDA` points it at the local endpoint. */
export function loadLambda() {
  return (lambda ??= import('@aws-sdk/client-lambda').then((sdk) => ({ sdk, client: new sdk.LambdaClient({ maxAttempts: 1 }) })));
}
