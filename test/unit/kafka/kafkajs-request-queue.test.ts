// patches/kafkajs+2.2.4+004+idle-request-queue-sets-no-timer.patch, the request queue: kafkajs
// 2.2.4 schedules its pending-request check even when nothing is pending, at a delay far below zero; Node 24 prints a
// TimeoutNegativeWarning for it, and the check reschedules itself every millisecond while idle.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';

interface RequestQueue {
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
  checkPendingRequests(): void;
  sendSocketRequest(request: unknown): void;
  maybeThrottle(ms: number): void;
  destroy(): void;
}
const RequestQueueClass = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (
  options: object,
) => RequestQueue;
const quiet = () => undefined;
const newQueue = () =>
  new RequestQueueClass({
    instrumentationEmitter: { emit: quiet },
    maxInFlightRequests: null,
    requestTimeout: 30_000,
    enforceRequestTimeout: true,
    clientId: 'test',
    broker: 'broker:9092',
    logger: { debug: quiet, info: quiet, warn: quiet, error: quiet },
  });

afterEach(() => {
  vi.useRealTimers();
});

describe('kafkajs request queue (patched)', () => {
  it('schedules no timer with a negative delay: Node emits no TimeoutNegativeWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const queue = newQueue();
    try {
      queue.scheduleCheckPendingRequests();
      await new Promise((resolve) => setTimeout(resolve, 5)); // Node emits warnings on a later tick
    } finally {
      queue.destroy();
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutNegativeWarning');
  });

  it('does not poll while nothing is pending', () => {
    vi.useFakeTimers();
    const queue = newQueue();
    const check = vi.spyOn(queue, 'checkPendingRequests');
    queue.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(1_000);
    queue.destroy();
    expect(check).not.toHaveBeenCalled();
  });

  it('still sends a pending request once the broker-requested throttle ends', () => {
    vi.useFakeTimers();
    const queue = newQueue();
    const send = vi.spyOn(queue, 'sendSocketRequest').mockImplementation(quiet);
    queue.maybeThrottle(50);
    queue.pending.push({ correlationId: 1 });
    queue.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(49);
    expect(send).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    queue.destroy();
    expect(send).toHaveBeenCalledWith({ correlationId: 1 });
  });
});
