import type { Message } from '@aws-sdk/client-sqs';
import { vi } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterEnvelope, DeadLetterPointer } from '../../src/runtime/envelope.js';

export type Input = Record<string, unknown> & { Entries?: Array<Record<string, unknown>> };
export interface Call {
  readonly name: string;
  readonly input: Input;
}

/**
 * SQS and S3 at the SDK client's `send`: ReceiveMessage hands out `messages` in order, every
 * call is recorded, and `answer` may replace any call's answer (or throw) by command name.
 */
export async function fakeAws(
  messages: Message[],
  objects: Record<string, string> = {},
  answer: (call: Call) => unknown = () => undefined,
) {
  const calls: Call[] = [];
  const queue = [...messages];
  const respond = async (command: { constructor: { name: string }; input: Input }) => {
    const call = { name: command.constructor.name.replace(/Command$/, ''), input: command.input };
    calls.push(call);
    const scripted = answer(call);
    if (scripted !== undefined) return scripted;
    switch (call.name) {
      case 'ReceiveMessage':
        return { Messages: queue.splice(0, call.input.MaxNumberOfMessages as number) };
      case 'GetObject': {
        const text = objects[`${call.input.Bucket}/${call.input.Key}`];
        if (text === undefined) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
        return { Body: { transformToString: async () => text } };
      }
      case 'SendMessageBatch':
        return { Successful: call.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
      default:
        return {};
    }
  };
  // On the prototypes: a client built by a freshly imported module (see `fresh`) is faked too.
  vi.spyOn(SQSClient.prototype, 'send').mockImplementation(respond as never);
  vi.spyOn(S3Client.prototype, 'send').mockImplementation(respond as never);
  return { calls, named: (name: string) => calls.filter((c) => c.name === name).map((c) => c.input) };
}

/** An SQS message as ReceiveMessage hands it out (id m<i>, receipt handle rh<i>), received once. */
export const sqsMessage = (
  body: DeadLetterEnvelope | DeadLetterPointer | string,
  i: number,
  attributes: Record<string, string> = {},
): Message => ({
  MessageId: `m${i}`,
  ReceiptHandle: `rh${i}`,
  Body: typeof body === 'string' ? body : JSON.stringify(body),
  Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1700000000000', ...attributes },
});
