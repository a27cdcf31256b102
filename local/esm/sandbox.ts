// Lambda runs each concurrent invocation in its own sandbox and stops the sandbox when the
// invocation times out, so nothing a timed-out invocation still had running can happen after
// it was declared failed. Here a sandbox is a worker thread: a pool grows to the number of
// invocations in flight, reuses idle workers (warm starts), and terminates a worker whose
// invocation was aborted (a timeout) or failed, replacing it on the next invocation (a cold start).
import { channel } from 'node:diagnostics_channel';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { CHANNELS } from '../../src/contract/index.js';
import { EmulatorError } from '../errors.js';

/** The runtime's channels, which the emulator and local tools listen to. */
export const RUNTIME_CHANNELS = Object.values(CHANNELS);

export interface SandboxOptions {
  /** Path of the module holding the function's handler. */
  readonly module: string;
  /** @default 'handler' */
  readonly exportName?: string;
  /**
   * Diagnostics channels to forward from the sandboxes to this thread (published here under
   * the same names). @default {@link RUNTIME_CHANNELS}
   */
  readonly channels?: readonly string[];
  /** Passed to the function's module as `workerData.data` (shared memory included). @default undefined */
  readonly data?: unknown;
  /** Sandboxes started at once, ready before the first invocation (as provisioned concurrency). @default 0 */
  readonly warm?: number;
}

/** @internal What the pool hands a worker. */
export interface SandboxWorkerData {
  readonly module: string;
  readonly exportName: string;
  readonly channels: readonly string[];
  readonly data: unknown;
}

/** @internal One invocation, as posted to a worker. */
export interface SandboxInvoke {
  readonly event: unknown;
  readonly context: { readonly awsRequestId: string; readonly functionName: string; readonly deadline: number };
}

/** @internal What a worker posts back. */
export type SandboxReply =
  | { type: 'ready' }
  | { type: 'channel'; name: string; message: unknown }
  | { type: 'result'; ok: true; response: unknown }
  | { type: 'result'; ok: false; error: { name: string; message: string; stack?: string | undefined } };

// Beside this module, with its extension: local/esm/sandbox-worker.ts in the repository, the
// package's bundle dist/local/sandbox-worker.js beside dist/local/commands.js.
const workerFile = fileURLToPath(new URL(`./sandbox-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export class SandboxPool {
  readonly #options: SandboxOptions;
  readonly #idle: Worker[] = [];
  /** Every sandbox whose thread has not exited yet. */
  readonly #all = new Set<Worker>();
  #closed = false;

  /** Sandboxes started so far (cold starts, replacements included). */
  started = 0;

  /**
   * Settles once every warm sandbox has initialized (loaded the function's module, or failed to),
   * as Lambda initializes provisioned concurrency before it sends traffic. Wait for it before the
   * first invocation: an invocation's timeout runs from when it is handed over, so a sandbox
   * still loading would spend its init inside that timeout (Lambda's Init phase has its own).
   */
  readonly ready: Promise<void>;

  /** Sandboxes whose thread is still alive (a stopped one counts until its thread has exited). */
  get alive(): number {
    return this.#all.size;
  }

  constructor(options: SandboxOptions) {
    this.#options = options;
    const warm = Array.from({ length: options.warm ?? 0 }, () => this.#spawn());
    this.#idle.push(...warm);
    this.ready = Promise.all(warm.map(initialized)).then(() => undefined);
  }

  /** The function, as the emulator calls it: `signal` aborted means stop the sandbox now. */
  readonly handler = (event: unknown, context: Context, signal?: AbortSignal) => this.invoke(event, context, signal);

  invoke(event: unknown, context: Context, signal?: AbortSignal): Promise<unknown> {
    if (this.#closed) return Promise.reject(new EmulatorError('the sandbox pool is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const worker = this.#idle.pop() ?? this.#spawn();
    return new Promise((resolve, reject) => {
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
      };
      const onMessage = (reply: SandboxReply) => {
        if (reply.type !== 'result') return;
        settle();
        if (reply.ok) {
          this.#idle.push(worker);
          return resolve(reply.response);
        }
        // A failed invocation's sandbox is stopped too: middy answers a TimeoutError just before
        // the deadline, and what the function still has running must not outlive the failure.
        this.#discard(worker);
        // Deliberately a plain Error: it stands for the function's own error (its name, message
        // and stack, copied across the thread), not one of the emulator's.
        reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, stack: reply.error.stack }));
      };
      // An uncaught error or process.exit in the function ends the sandbox and the invocation.
      const onExit = (code: number) => {
        settle();
        reject(new EmulatorError(`the sandbox exited (code ${code}) during the invocation`));
      };
      const onAbort = () => {
        settle();
        this.#discard(worker);
        reject(signal!.reason);
      };
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      const deadline = Date.now() + context.getRemainingTimeInMillis();
      worker.postMessage({
        event,
        context: { awsRequestId: context.awsRequestId, functionName: context.functionName, deadline },
      } satisfies SandboxInvoke);
    });
  }

  /** Stops every sandbox (what they were doing is abandoned). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#idle.length = 0;
    await Promise.all([...this.#all].map((w) => w.terminate())); // each leaves #all as it exits
  }

  #spawn(): Worker {
    const { module, exportName = 'handler', channels = RUNTIME_CHANNELS, data } = this.#options;
    // The function's TypeScript loads as in the parent (tsx), whatever started the parent; tsx
    // as this module finds it (a package user's own install), not as the working directory would.
    const worker = new Worker(workerFile, {
      execArgv: ['--import', import.meta.resolve('tsx')],
      workerData: { module, exportName, channels, data } satisfies SandboxWorkerData,
    });
    const forward = new Map(channels.map((name) => [name, channel(name)]));
    worker.on('message', (reply: SandboxReply) => {
      if (reply.type === 'channel') forward.get(reply.name)?.publish(reply.message);
    });
    worker.on('error', () => undefined); // reported to the invocation through 'exit'
    worker.on('exit', () => {
      this.#all.delete(worker);
      const idle = this.#idle.indexOf(worker);
      if (idle >= 0) this.#idle.splice(idle, 1); // died while idle: never hand it an invocation
    });
    worker.unref(); // an idle sandbox never keeps the process alive
    this.#all.add(worker);
    this.started++;
    return worker;
  }

  /** Stops a sandbox; it stays in {@link alive} until its thread has exited. */
  #discard(worker: Worker) {
    void worker.terminate();
  }
}

/** Resolves when the sandbox reports its initialization over, or ends. */
function initialized(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (reply: SandboxReply) => {
      if (reply.type === 'ready') done();
    };
    const done = () => {
      worker.off('message', onMessage);
      worker.off('exit', done);
      resolve();
    };
    worker.on('message', onMessage);
    worker.on('exit', done);
  });
}
