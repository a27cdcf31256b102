import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { LocalEnvironment } from '../../local/services.js';

export function sqsClient(env: LocalEnvironment, endpoint = env.AWS_ENDPOINT_URL) {
  return new SQSClient({
    endpoint,
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
}

/** A queue of its own for one test, so tests never see each other's messages. */
export async function freshQueue(sqs: SQSClient, prefix: string) {
  const name = `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  return { url: QueueUrl!, remove: () => sqs.send(new DeleteQueueCommand({ QueueUrl: QueueUrl! })) };
}

/** Everything visible in a queue (until `expected` are in, or a receive comes back empty). */
export async function drain(sqs: SQSClient, url: string, expected = Number.POSITIVE_INFINITY): Promise<Message[]> {
  const all: Message[] = [];
  while (all.length < expected) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 300,
      }),
    );
    if (Messages.length === 0) break;
    all.push(...Messages);
  }
  return all;
}

/** Messages in a queue, visible or not, without receiving any (a receive would hide them). */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
}
