// The outage breaker, locally: the environment the construct gives the consumer and the resumer
// (cool-downs scaled down from minutes to seconds), and the resumer Lambda's handler run on its
// schedule in this process, against the local Lambda API (AWS_ENDPOINT_URL_LAMBDA), as
// EventBridge runs it every minute on AWS.
import { randomUUID } from 'node:crypto';
import { ENV } from '../src/contract/index.js';
import { lambdaContext } from './esm/lambda-context.js';

/** The first cool-down and the longest, in seconds: a local outage lasts seconds, not minutes. */
export const LOCAL_BREAKER_COOL_DOWN_SECONDS = 2;
export const LOCAL_BREAKER_MAX_COOL_DOWN_SECONDS = 8;
/** How often the local resumer ticks (the construct's schedule: every minute). */
const TICK_MS = 1_000;
const TICK_TIMEOUT_MS = 10_000;

/** What the construct's `breaker` sets on the consumer function (and the resumer), scaled down. */
export function localBreakerEnvironment(): Record<string, string> {
  return {
    [ENV.breakerCoolDownSeconds]: String(LOCAL_BREAKER_COOL_DOWN_SECONDS),
    [ENV.breakerMaxCoolDownSeconds]: String(LOCAL_BREAKER_MAX_COOL_DOWN_SECONDS),
  };
}

export interface ResumerSchedule {
  /** Ticks run so far. */
  readonly ticks: number;
  /** Stops ticking (waits for the tick under way). */
  stop(): Promise<void>;
}

/**
 * Runs the resumer's handler (src/breaker/resumer.ts) every second, one tick at a time, with the
 * event an EventBridge schedule sends, for the mappings of `functionName`. The process's
 * environment must hold the breaker's (see {@link localBreakerEnvironment}) and AWS_ENDPOINT_URL_LAMBDA.
 * A tick that fails is reported through `log` (the next one tries again, as on AWS).
 */
export async function startResumerSchedule(functionName: string, log: (line: string) => void): Promise<ResumerSchedule> {
  process.env[ENV.breakerFunctionName] = functionName;
  // Loaded now, not at import: its logger and metrics read the environment set above.
  const { handler } = await import('../src/breaker/resumer.js');
  let ticks = 0;
  let lastError = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: process.env.AWS_REGION ?? 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/local-breaker-resumer'],
      detail: {},
    };
    try {
      await handler(event, lambdaContext(TICK_TIMEOUT_MS, 'breaker-resumer'));
      lastError = '';
    } catch (error) {
      // Once per distinct failure, not every second.
      const message = (error as Error).message;
      if (message !== lastError) log(`breaker resumer: ${message}`);
      lastError = message;
    }
    ticks++;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, TICK_MS);
  };
  schedule();
  return {
    get ticks() {
      return ticks;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
