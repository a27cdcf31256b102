import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Producer } from 'kafkajs';
import { parseDeadLetter } from '../../src/runtime/envelope.js';

const b64 = (text: string | null) => (text === null ? null : Buffer.from(text, 'base64'));

/** The usual hand-written replay: receive one message, produce it, delete it; until the queue is empty. */
export async function naiveReplay(sqs: SQSClient, queueUrl: string, producer: Producer): Promise<number> {
  let replayed = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
    const [message] = Messages;
    if (!message) return replayed;
    const envelope = parseDeadLetter(message.Body ?? '');
    if (envelope.kind !== 'kafka-dead-letter') throw new Error('the naive replay does not follow S3 pointers');
    const { record } = envelope;
    const headers = Object.fromEntries(record.headers.map((h) => [h.name, b64(h.value)!]));
    await producer.send({
      topic: record.topic,
      acks: -1,
      messages: [{ partition: record.partition, key: b64(record.key), value: b64(record.value), headers }],
    });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    replayed++;
  }
}
