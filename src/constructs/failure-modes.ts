// The construct's side of kafkaConsumer's failureMode (docs/failure-modes.md): the mapping
// settings a mode needs, checked at synth, and park-key's table and grants.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { parkedRecordsAck } from './cdk-nag-acknowledgements.js';
import { ConstructPropsError } from './errors.js';
import type { KafkaConsumerProps } from './kafka-consumer-props.js';
import type { EffectiveMappingSettings } from '../mapping/mapping-settings.js';
import {
  FAILURE_MODES,
  IDEMPOTENCY_TABLE,
  PARKED_RECORDS_PREFIX,
  PARKING_CONSUMER_ACTIONS,
  PARKING_REPLAY_ACTIONS,
  type FailureMode,
} from '../contract/index.js';

/**
 * The failure mode, and for `block` every setting with which Lambda could skip a batch, refused
 * together, each named with its fix (docs/aws-contracts.md §14):
 * - on demand, Lambda honours no partial batch response and takes no retry settings;
 * - `retryAttempts` N ≥ 0 discards a batch after N retries; -1 with an on-failure destination is
 *   capped at 10 retries, and the construct always sets one unless told not to (block: none);
 * - `maxRecordAge` sends older records to the destination unsent;
 * - `bisectBatchOnError` retries a failing batch's halves separately: records after a blocked one could run;
 * - without partial batch responses the runtime can only fail the whole batch;
 * - a schema registry drops records that fail validation when there is no destination.
 * `park-key` needs `consumerGroupId`: the replay's release waits for the group's committed offsets.
 */
export function validateFailureMode(props: KafkaConsumerProps, settings: EffectiveMappingSettings): FailureMode {
  const mode = props.failureMode ?? 'dead-letter';
  if (!(FAILURE_MODES as readonly string[]).includes(mode)) {
    throw new ConstructPropsError(
      'failureMode',
      `failureMode is "${String(mode)}"; it must be one of ${FAILURE_MODES.map((m) => `'${m}'`).join(', ')}.`,
    );
  }
  if (mode === 'park-key' && !props.consumerGroupId) {
    throw new ConstructPropsError(
      'consumerGroupId',
      "failureMode is 'park-key' but consumerGroupId is not set: the replay releases a parked key only once the consumer group's committed offset is past its release copies, so it must know the group; give consumerGroupId (the mappings then read as <consumerGroupId>-<topic>).",
    );
  }
  if (mode !== 'block') return mode;
  const skips: string[] = [];
  if (settings.pollerMode === 'on-demand') {
    skips.push(
      "pollerMode is 'on-demand': Lambda honours partial batch responses and retry settings only in provisioned mode, so it would not redeliver a blocked partition from its record; use pollerMode 'provisioned' (the default)",
    );
  }
  if (settings.retryAttempts !== -1) {
    skips.push(`retryAttempts is ${settings.retryAttempts}: Lambda discards a batch after that many retries; leave it out (-1, infinite)`);
  }
  if (props.onFailure) {
    skips.push(
      'onFailure is set: with an on-failure destination Lambda caps infinite retries at 10 and then skips the batch; leave onFailure out (block mode creates no on-failure queue)',
    );
  }
  if (props.maxRecordAge) {
    skips.push(
      `maxRecordAge is ${props.maxRecordAge.toSeconds()} s: Lambda skips records older than that without sending them; leave it out (-1, no limit)`,
    );
  }
  if (settings.bisectBatchOnError) {
    skips.push(
      'bisectBatchOnError is true: when the function errors (a timeout, a crash), Lambda splits the batch and retries the halves separately, so records after a blocked one could run before it; leave it out (false)',
    );
  }
  if (settings.pollerMode === 'provisioned' && !settings.reportBatchItemFailures) {
    skips.push(
      'reportBatchItemFailures is false: without partial batch responses a blocked partition holds back the whole batch (every partition); leave it out (true)',
    );
  }
  if (props.schemaRegistryConfig) {
    skips.push(
      'schemaRegistryConfig is set: Lambda drops records that fail schema validation when the mapping has no on-failure destination, and block mode has none; deserialize in the handler instead (a record that cannot be read blocks its partition)',
    );
  }
  if (skips.length > 0) {
    throw new ConstructPropsError(
      'failureMode',
      `failureMode is 'block', which must never let Lambda skip a record, but ${skips.length === 1 ? 'this setting would' : 'these settings would'}: ${skips.map((s, i) => `(${i + 1}) ${s}`).join('; ')}.`,
    );
  }
  return mode;
}

/**
 * Block mode's mapping says what it relies on instead of leaving it to Lambda's defaults: retries
 * and record age infinite (-1), no bisection. A stack switched from another mode then sets them
 * explicitly rather than trusting an update to reset properties that left the template
 * (CreateEventSourceMapping: MaximumRetryAttempts, MaximumRecordAgeInSeconds "-1 … infinite").
 */
export function pinNeverSkip(mapping: lambda.CfnEventSourceMapping): void {
  mapping.maximumRetryAttempts = -1;
  mapping.maximumRecordAgeInSeconds = -1;
  mapping.bisectBatchOnFunctionError = false;
}

/**
 * A table with the idempotency ledger's schema (its partition key; TTL on its expiry attribute,
 * which parked keys never carry): the ledger's, and park-key's own when the ledger is off.
 * Replacing or deleting the stack must not forget which records are done or which keys wait.
 */
export function ledgerSchemaTable(scope: Construct, id: string, encryptionKey: kms.IKey | undefined): dynamodb.Table {
  // A Table, not a TableV2 (a global table), whose customer managed key needs a stack with a region.
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: IDEMPOTENCY_TABLE.expiryAttribute,
    // Like the queues and the bucket: the service's own key, or the consumer's.
    ...(encryptionKey
      ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey }
      : { encryption: dynamodb.TableEncryption.DEFAULT }),
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

/** A function's role and the table and bucket of park-key. */
interface Parking {
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
}

/** The key actions aws-cdk-lib's `grantReadWriteData` gives on a table's key (as grants.ts's ledger grant). */
const TABLE_KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];

/** Under a customer managed key, DynamoDB uses the key on the caller's behalf, only through DynamoDB */
function grantTableKey(fn: iam.IGrantable, table: dynamodb.ITable): void {
  if (!table.encryptionKey) return;
  fn.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: TABLE_KEY_ACTIONS,
      resources: [table.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(table).region}.amazonaws.com` } },
    }),
  );
}

/** The consumer parks: exactly PARKING_CONSUMER_ACTIONS, on the table and on `parked/*` (the bucket's key: grantDeadLetterWrite's encrypt). */
export function grantParkingConsumer(fn: lambda.IFunction, { table, bucket }: Parking): void {
  table.grant(fn, ...PARKING_CONSUMER_ACTIONS.table);
  fn.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...PARKING_CONSUMER_ACTIONS.parkedRecords],
      resources: [bucket.arnForObjects(`${PARKED_RECORDS_PREFIX}*`)],
    }),
  );
  grantTableKey(fn, table);
  Validations.of(fn).acknowledge(parkedRecordsAck(bucket));
}

/** What the replay does under `parked/` (exactly PARKING_REPLAY_ACTIONS' bucket part): lists only there, reads and deletes there. */
export function parkedRecordsReplayStatements(bucket: s3.IBucket): iam.PolicyStatementProps[] {
  return [
    {
      actions: [...PARKING_REPLAY_ACTIONS.listParkedRecords],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': `${PARKED_RECORDS_PREFIX}*` } },
    },
    { actions: [...PARKING_REPLAY_ACTIONS.parkedRecords], resources: [bucket.arnForObjects(`${PARKED_RECORDS_PREFIX}*`)] },
  ];
}

/** The replay releases: exactly PARKING_REPLAY_ACTIONS on the table and under `parked/` (the bucket's key: the replay's encryptDecrypt). */
export function grantParkingReplay(fn: lambda.IFunction, { table, bucket }: Parking): void {
  fn.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...PARKING_REPLAY_ACTIONS.table], resources: [table.tableArn] }),
  );
  for (const statement of parkedRecordsReplayStatements(bucket)) fn.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement(statement));
  grantTableKey(fn, table);
  Validations.of(fn).acknowledge(parkedRecordsAck(bucket));
}
