// The example consumer under chaos, as it runs in a sandbox: the ground truth's recording
// consumer, with invocation faults and downstream outages the chaos run steers through shared memory.
import { workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { recordedConsumer, type RecordedConsumerData } from '../recorded-consumer.js';
import { DownstreamOutageError } from '../errors.js';
import { HandlerFaults } from './handler-faults.js';

/** What the chaos run passes to each sandbox (`SandboxOptions.data`). */
export interface ChaosConsumerData extends RecordedConsumerData {
  readonly errorEvery: number;
  readonly timeoutEvery: number;
  readonly buffer: SharedArrayBuffer;
}

const data = (workerData as { data: ChaosConsumerData }).data;
const faults = new HandlerFaults(data.errorEvery, data.timeoutEvery, data.buffer);
const consumer = recordedConsumer(
  () => {
    if (faults.downstreamDown) {
      faults.outageFailed();
      throw new DownstreamOutageError('connect ECONNREFUSED 127.0.0.1:5432 (chaos: the downstream is out)');
    }
  },
  () => faults.dataFixed,
);

export async function handler(event: unknown, context: Context): Promise<unknown> {
  const fault = faults.next();
  const response = await consumer(event as Parameters<typeof consumer>[0], context);
  // The work is done (and partly dead-lettered) either way: what follows makes Lambda retry the whole batch.
  if (fault === 'error') throw new Error('injected handler error (chaos)');
  if (fault === 'timeout') await new Promise(() => undefined); // until the sandbox is stopped at the timeout
  return response;
}
