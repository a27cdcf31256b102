// The idempotency ledger's props: its expiry against the mapping's redeliveries, its table's region.
import type { Stack } from 'aws-cdk-lib';
import { Arn, ArnFormat, Duration, Token, TokenComparison } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { ConstructPropsError } from './errors.js';
import type { KafkaConsumerProps } from './kafka-consumer-props.js';
import { DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS } from '../contract/index.js';

/**
 * The idempotency ledger's expiry: a record that comes back after its entry expired runs again,
 * so the entry must outlive every redelivery of the mapping: a record older than `maxRecordAge`
 * is not delivered, and a batch retried after a timeout comes back at least one timeout later.
 * (Its relation to the dead-letter retention is a warning, given by the construct.)
 * @returns the expiry, or undefined when `idempotency` is off
 */
export function validateIdempotencyExpiry(props: KafkaConsumerProps, timeout: Duration): Duration | undefined {
  if (!props.idempotency) return undefined;
  const given = typeof props.idempotency === 'object' ? props.idempotency.expiry : undefined;
  const expiry = given ?? Duration.seconds(DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS);
  const seconds = expiry.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 1) {
    throw new ConstructPropsError(
      'idempotency.expiry',
      `idempotency.expiry is ${expiry.toHumanString()}; the ledger's expiry is whole seconds (DynamoDB's TTL reads epoch seconds): give at least Duration.seconds(1), in whole seconds.`,
    );
  }
  const floors: Array<[string, Duration | undefined, string]> = [
    ['maxRecordAge', props.maxRecordAge, 'the mapping redelivers records up to that age'],
    ['timeout', timeout, 'a batch retried after a timeout comes back at least that late'],
  ];
  for (const [prop, floor, why] of floors) {
    if (floor && seconds < floor.toSeconds()) {
      throw new ConstructPropsError(
        'idempotency.expiry',
        `idempotency.expiry is ${seconds} s, shorter than ${prop} (${floor.toSeconds()} s): ${why}, and a record whose ledger entry expired runs again. Give an expiry of at least ${floor.toSeconds()} s (the default, 14 days, covers every dead letter the queue keeps).`,
      );
    }
  }
  return expiry;
}

/**
 * A ledger table the user gives must be in the function's region: the runtime calls DynamoDB's
 * regional endpoint, where a table of another region does not exist (every claim would fail and
 * every partition be redelivered unrun). Checked when both regions are known.
 */
export function validateIdempotencyTableRegion(table: dynamodb.ITable, consumer: Stack): void {
  // The ARN's region: an imported table's `env` is the importing stack's.
  const region = Arn.split(table.tableArn, ArnFormat.SLASH_RESOURCE_NAME).region ?? consumer.region;
  if (Token.compareStrings(region, consumer.region) === TokenComparison.DIFFERENT) {
    throw new ConstructPropsError(
      'idempotency.table',
      `idempotency.table is in ${region}, but the consumer function runs in ${consumer.region}, and the ledger calls DynamoDB in its own region. Give a table in ${consumer.region} (or leave idempotency.table out and the construct creates one).`,
    );
  }
}
