// Functions for the sandbox pool's tests, one export per behaviour a sandbox must handle.
import { channel } from 'node:diagnostics_channel';
import { threadId } from 'node:worker_threads';
import type { Context } from 'aws-lambda';

export const SANDBOX_TEST_CHANNEL = 'test:sandbox-functions';

/** Answers what it was given, from which thread, after `waitMs`; publishes on the test channel. */
export async function echo(event: { waitMs?: number }, context: Context) {
  await new Promise((resolve) => setTimeout(resolve, event.waitMs ?? 0));
  channel(SANDBOX_TEST_CHANNEL).publish({ threadId });
  channel('test:not-forwarded').publish({ threadId });
  return {
    event,
    threadId,
    awsRequestId: context.awsRequestId,
    functionName: context.functionName,
    remainingMs: context.getRemainingTimeInMillis(),
  };
}

export async function fail(): Promise<never> {
  throw Object.assign(new Error('the order is malformed'), { name: 'OrderError' });
}

export async function exit(): Promise<never> {
  process.exit(3);
}

export function hang(): Promise<never> {
  return new Promise(() => setInterval(() => undefined, 1_000));
}

/** Throws outside the invocation's promise: the thread's uncaught error. */
export function crash(): Promise<never> {
  setTimeout(() => {
    throw new Error('boom');
  }, 0);
  return new Promise(() => undefined);
}

/** Ends its sandbox when the event says so, else answers from which thread. */
export async function exitIfAsked(event: { exit?: boolean }): Promise<{ threadId: number }> {
  if (event.exit) process.exit(4);
  return { threadId };
}

/** Answers, then its sandbox ends on its own while idle. */
export async function exitWhenIdle(): Promise<{ threadId: number }> {
  setTimeout(() => process.exit(0), 50);
  return { threadId };
}

export const notAFunction = 42;
