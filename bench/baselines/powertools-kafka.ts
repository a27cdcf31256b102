import { kafkaConsumer } from '@aws-lambda-powertools/kafka';
import type { MSKEvent, SchemaConfigValue } from '@aws-lambda-powertools/kafka/types';
import type { Context } from 'aws-lambda';
import type { KafkaEvent } from '../../src/runtime/event.js';
import { handLoop } from './hand-loop.js';

/** Powertools for AWS Lambda's Kafka consumer utility (JSON values unless told) with the hand-written loop. */
export function powertoolsHandler(fn: (value: unknown) => void, value: SchemaConfigValue = { type: 'json' }) {
  const handler = kafkaConsumer<unknown, unknown>(async (event) => handLoop(event.records, fn), { value });
  return (event: KafkaEvent, context: Context) => handler(event as unknown as MSKEvent, context);
}
