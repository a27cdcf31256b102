import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { KafkaBatchResponse } from '../../src/runtime/index.js';
import type { KafkaEvent } from '../../src/runtime/event.js';

/** The usual hand-written dead-letter path: one SendMessage per failed record, in line. */
export function naiveDeadLetterHandler(fn: (value: unknown) => void, sqs: SQSClient, queueUrl: string) {
  return async (event: KafkaEvent): Promise<KafkaBatchResponse> => {
    for (const records of Object.values(event.records)) {
      for (const record of records) {
        try {
          fn(JSON.parse(Buffer.from(record.value as string, 'base64').toString()));
        } catch (error) {
          const { name, message, stack } = error as Error;
          await sqs.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ record, error: { name, message, stack } }) }),
          );
        }
      }
    }
    return { batchItemFailures: [] };
  };
}
