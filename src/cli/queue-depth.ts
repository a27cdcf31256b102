// How many dead letters the queue holds, from its attributes (approximate, as SQS counts them):
// what is left for the ETA, and the totals of a report. A queue the credentials may not read
// leaves these unknown; the replay goes on without them.
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describeError } from '../contract/errors.js';

export interface QueueDepth {
  /** ApproximateNumberOfMessages: ready to be received. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received by someone (a replay in flight) and not yet deleted. */
  readonly inFlight: number;
}

export type ReadDepth = () => Promise<QueueDepth | { readonly unknown: string }>;

/** `endpoint`: a local SQS's (the SDK would otherwise warn that the queue URL's host differs from it). */
export function queueDepthReader(queueUrl: string, region?: string, endpoint?: string): ReadDepth {
  const client = new SQSClient({ ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}) });
  return async () => {
    try {
      const { Attributes = {} } = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return {
        visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    } catch (error) {
      const { type, message } = describeError(error);
      return { unknown: `${type}: ${message} (sqs:GetQueueAttributes on ${queueUrl})` };
    }
  };
}
