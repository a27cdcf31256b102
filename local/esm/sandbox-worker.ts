// Stryker disable all: this runs in worker threads, where Stryker's switch for the active mutant
// does not reach; test/e2e/sandbox.test.ts runs it in real workers.
// Inside one sandbox (a worker thread): loads the function's module once, runs one invocation
// at a time, and forwards the diagnostics channels the parent listens to (they are per thread).
import { subscribe } from 'node:diagnostics_channel';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { lambdaContext } from './lambda-context.js';
import type { SandboxInvoke, SandboxReply, SandboxWorkerData } from './sandbox.js';
import { EmulatorError } from '../errors.js';

const { module, exportName, channels } = workerData as SandboxWorkerData;
const port = parentPort!;

for (const name of channels) subscribe(name, (message) => port.postMessage({ type: 'channel', name, message } satisfies SandboxReply));

const loaded = import(pathToFileURL(module).href).then((m: Record<string, unknown>) => {
  const handler = m[exportName];
  if (typeof handler !== 'function') throw new EmulatorError(`${module} does not export a function named "${exportName}"`);
  return handler as (event: unknown, context: unknown) => Promise<unknown>;
});
// Reported to each invocation below; unhandled until the first one, it would end the thread
// with an exit code instead of the reason.
loaded.catch(() => undefined);
// The function's initialization is over (whether it loaded or not): see SandboxPool.ready.
const ready = () => port.postMessage({ type: 'ready' } satisfies SandboxReply);
loaded.then(ready, ready);

port.on('message', async ({ event, context }: SandboxInvoke) => {
  let reply: SandboxReply;
  try {
    const handler = await loaded;
    const ctx = { ...lambdaContext(context.deadline - Date.now(), context.functionName), awsRequestId: context.awsRequestId };
    reply = { type: 'result', ok: true, response: await handler(event, ctx) };
  } catch (error) {
    const e = error as Error;
    reply = { type: 'result', ok: false, error: { name: e?.name ?? 'Error', message: e?.message ?? String(error), stack: e?.stack } };
  }
  port.postMessage(reply);
});
