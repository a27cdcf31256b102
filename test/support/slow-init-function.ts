// A function whose module takes a while to initialize (as the runtime's SDK clients under tsx on a
// busy machine), saying so on the sandbox test channel when it is done: for SandboxPool.ready.
import { channel } from 'node:diagnostics_channel';
import { threadId } from 'node:worker_threads';
import { SANDBOX_TEST_CHANNEL } from './sandbox-functions.js';

await new Promise((resolve) => setTimeout(resolve, 300));
channel(SANDBOX_TEST_CHANNEL).publish({ initialized: threadId });

export async function handler(): Promise<{ threadId: number }> {
  return { threadId };
}
