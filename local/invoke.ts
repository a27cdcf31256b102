// `npm run invoke -- consumer --event FILE [--timeout SECONDS]`
// `npm run invoke -- replay [--payload JSON] [--timeout SECONDS]`
// Runs a function's handler once, locally, with a Lambda-like context, against the SQS/S3
// (and brokers) in the environment, or embedded ones started for the call. The LAST stdout
// line is one JSON object: {"response": ..., "deadLetters": [...]}. Logs and metrics come before it.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { lambdaContext } from './esm/lambda-context.js';
import { startLocalServices, type LocalServices } from './services.js';
import type { DeadLetterEnvelope } from '../src/runtime/envelope.js';
import { CHANNELS } from '../src/contract/index.js';

const usage =
  'usage: npm run invoke -- consumer --event FILE [--timeout SECONDS]\n       npm run invoke -- replay [--payload JSON] [--timeout SECONDS]';
const functions = {
  consumer: { load: () => import('../app/consumer/index.js'), needsKafka: false, defaultTimeout: 30 },
  replay: { load: () => import('../src/replay/index.js'), needsKafka: true, defaultTimeout: 60 },
} as const;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { event: { type: 'string' }, payload: { type: 'string' }, timeout: { type: 'string' } },
  });
  const name = positionals[0] as keyof typeof functions | undefined;
  const fn = name ? functions[name] : undefined;
  if (!fn) {
    console.error(`${name ? `unknown function "${name}"` : 'which function?'}\n${usage}`);
    return 2;
  }
  let event: unknown;
  try {
    if (name === 'consumer') {
      if (!values.event) throw new Error('--event FILE is required for the consumer');
      event = JSON.parse(await readFile(values.event, 'utf8'));
    } else {
      event = JSON.parse(values.payload ?? '{}');
    }
  } catch (error) {
    console.error(`cannot read the input: ${(error as Error).message}\n${usage}`);
    return 2;
  }
  const timeout = Number(values.timeout ?? fn.defaultTimeout);
  if (!(timeout > 0)) {
    console.error(`--timeout must be a positive number of seconds, got ${values.timeout}`);
    return 2;
  }

  // Embedded services for the call, unless the environment names running ones.
  let services: LocalServices | undefined;
  const missing = !process.env.AWS_ENDPOINT_URL || !process.env.DLQ_URL || (fn.needsKafka && !process.env.KAFKA_BROKERS);
  if (missing) {
    services = await startLocalServices({ withKafka: fn.needsKafka });
    Object.assign(process.env, services.env);
  }
  const deadLetters: DeadLetterEnvelope[] = [];
  const collect = (envelope: unknown) => deadLetters.push(envelope as DeadLetterEnvelope);
  subscribe(CHANNELS.deadLetterSent, collect);
  try {
    const { handler } = await fn.load();
    const response = await (handler as (e: unknown, c: unknown) => Promise<unknown>)(event, lambdaContext(timeout * 1_000, name));
    console.log(JSON.stringify({ response, deadLetters }));
    return 0;
  } catch (error) {
    console.error(`the ${name} handler failed: ${(error as Error).stack ?? String(error)}`);
    console.log(JSON.stringify({ error: { type: (error as Error).name, message: (error as Error).message }, deadLetters }));
    return 1;
  } finally {
    unsubscribe(CHANNELS.deadLetterSent, collect);
    await services?.stop();
  }
}

/** How long the process may take to wind down once the handler has answered. */
const EXIT_GRACE_MS = 2_000;

const code = await main();
process.exitCode = code;
// Lambda freezes the process once the handler has answered; here, anything the handler left
// open (a socket, a timer) would keep the command running. Name it and exit anyway.
setTimeout(() => {
  console.error(
    `invoke: still running ${EXIT_GRACE_MS} ms after the handler answered (open: ${process.getActiveResourcesInfo().join(', ')}); exiting`,
  );
  process.exit(code);
}, EXIT_GRACE_MS).unref();
