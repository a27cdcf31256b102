// The ground truth's read of the dead-letter queue: every message once, each hidden for a minute
// after it is received, so that a read to the queue's end counts none twice.
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { parseDeadLetter, type DeadLetterEnvelope, type DeadLetterPointer } from '../src/runtime/envelope.js';

/** Receives every message once (hidden for a minute after), hands `topic`'s dead letters to `take`; returns the receipt handles. */
export async function readDeadLetterQueue(
  sqs: SQSClient,
  queueUrl: string,
  topic: string,
  take: (letter: DeadLetterEnvelope | DeadLetterPointer) => void,
): Promise<string[]> {
  const receipts: string[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1 }),
    );
    if (Messages.length === 0) return receipts;
    for (const m of Messages) {
      if (m.ReceiptHandle) receipts.push(m.ReceiptHandle);
      let letter: DeadLetterEnvelope | DeadLetterPointer;
      try {
        letter = parseDeadLetter(m.Body ?? '');
      } catch {
        continue; // not a dead letter of ours
      }
      if (letter.record.topic === topic) take(letter);
    }
  }
}
