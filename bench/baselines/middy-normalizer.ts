import middy from '@middy/core';
import eventNormalizer from '@middy/event-normalizer';
import type { Context } from 'aws-lambda';
import type { KafkaEvent, KafkaEventRecord } from '../../src/runtime/event.js';
import { handLoop } from './hand-loop.js';

/** @middy/event-normalizer (base64 and JSON in place) with the hand-written loop. */
export function middyHandler(fn: (value: unknown) => void) {
  const handler = middy<KafkaEvent, unknown, Error, Context>()
    .use(eventNormalizer())
    .handler(async (event) => handLoop(allRecords(event), fn));
  return (event: KafkaEvent, context: Context) => handler(event, context);
}

function* allRecords(event: KafkaEvent): Iterable<KafkaEventRecord> {
  for (const records of Object.values(event.records)) yield* records;
}
