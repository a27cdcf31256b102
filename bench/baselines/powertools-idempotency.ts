import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Context } from 'aws-lambda';
import type { KafkaEvent, KafkaEventRecord } from '../../src/runtime/event.js';
import type { KafkaBatchResponse } from '../../src/runtime/index.js';

/**
 * Powertools for AWS Lambda's idempotency utility as its docs apply it to a batch: each record
 * through `makeIdempotent`, one after the other, keyed on the record's topic, partition and
 * offset, in a DynamoDB table (`DynamoDBPersistenceLayer`: a conditional write "in progress"
 * before the record, a write "completed" after it).
 */
export function powertoolsIdempotentHandler(tableName: string, work: (record: KafkaEventRecord) => unknown) {
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName });
  const config = new IdempotencyConfig({ eventKeyJmesPath: '[topic, partition, offset]' });
  const processIdempotently = makeIdempotent(async (record: KafkaEventRecord) => work(record), { persistenceStore, config });
  return async (event: KafkaEvent, context: Context): Promise<KafkaBatchResponse> => {
    config.registerLambdaContext(context); // "in progress" expires with the invocation
    for (const records of Object.values(event.records)) for (const record of records) await processIdempotently(record);
    return { batchItemFailures: [] };
  };
}
