// One invocation of a handler in this process, with a Lambda-like context, against the SQS/S3
// (and brokers) in the environment, or embedded ones started for the call. The LAST stdout line
// is one JSON object: {"response": …, "deadLetters": […]} (or {"error": …, "deadLetters": […]}).
// `local invoke` and `npm run invoke` both run it.
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { EXIT } from '../../src/cli/exit-codes.js';
import type { Io } from '../../src/cli/run.js';
import { CHANNELS, ENV } from '../../src/contract/index.js';
import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { lambdaContext } from '../esm/lambda-context.js';
import { ledgerEnvironment, startLocalServices, type LocalServices } from '../services.js';
import type { LoadedHandler } from './handler-module.js';

export interface InvokeOnce {
  /** Loads the handler, once the environment is set (its module may read it at load). */
  readonly load: () => Promise<LoadedHandler>;
  readonly event: unknown;
  readonly timeoutSeconds: number;
  readonly functionName: string;
  /** The handler produces to Kafka (the replay function): brokers are needed too. */
  readonly needsKafka: boolean;
  /** The handler uses the idempotency ledger: `IDEMPOTENCY_TABLE` is set (and DynamoDB reached), as the construct's `idempotency` prop does. */
  readonly idempotency: boolean;
}

export async function invokeOnce(o: InvokeOnce, io: Pick<Io, 'out' | 'err' | 'env'>): Promise<number> {
  // Embedded services for the call, unless the environment names running ones.
  let services: LocalServices | undefined;
  const env = io.env;
  if (
    !env.AWS_ENDPOINT_URL ||
    !env[ENV.deadLetterQueueUrl] ||
    (o.needsKafka && !env[ENV.kafkaBrokers]) ||
    (o.idempotency && !env.AWS_ENDPOINT_URL_DYNAMODB)
  ) {
    services = await startLocalServices({ withKafka: o.needsKafka, environment: env, idempotency: o.idempotency });
    Object.assign(env, services.env);
  } else if (o.idempotency) {
    // Running services (`local services`) created the table; name it as they would.
    Object.assign(env, ledgerEnvironment(env));
  }
  const deadLetters: DeadLetterEnvelope[] = [];
  const collect = (envelope: unknown) => deadLetters.push(envelope as DeadLetterEnvelope);
  subscribe(CHANNELS.deadLetterSent, collect);
  try {
    const handler = await o.load();
    try {
      const response = await handler(o.event, lambdaContext(o.timeoutSeconds * 1_000, o.functionName));
      io.out(`${JSON.stringify({ response, deadLetters })}\n`);
      return EXIT.ok;
    } catch (error) {
      io.err(`the ${o.functionName} handler failed: ${(error as Error).stack ?? String(error)}\n`);
      io.out(`${JSON.stringify({ error: { type: (error as Error).name, message: (error as Error).message }, deadLetters })}\n`);
      return EXIT.error;
    }
  } finally {
    unsubscribe(CHANNELS.deadLetterSent, collect);
    await services?.stop();
  }
}
