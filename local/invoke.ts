// `npm run invoke -- consumer --event FILE [--timeout SECONDS]`
// `npm run invoke -- replay [--payload JSON] [--timeout SECONDS]`
// The repository's two functions, invoked once by the code behind `kafka-lambda-consumers local
// invoke` (local/commands/invoke.ts): the LAST stdout line is {"response": ..., "deadLetters": [...]}.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeError } from '../src/contract/errors.js';
import { CliError, EXIT } from '../src/cli/exit-codes.js';
import { handlerFile, loadHandler } from './commands/handler-module.js';
import { invokeOnce } from './commands/invoke.js';
import { eventOf } from './commands/record-event.js';

const usage =
  'usage: npm run invoke -- consumer --event FILE [--timeout SECONDS]\n       npm run invoke -- replay [--payload JSON] [--timeout SECONDS]\n' +
  'A handler of your own: kafka-lambda-consumers local invoke --help (npx kafka-lambda-consumers … in an app that installed the package).\n';
const functions = {
  consumer: { file: '../app/consumer/index.ts', needsKafka: false, defaultTimeout: 30 },
  replay: { file: '../src/replay/index.ts', needsKafka: true, defaultTimeout: 60 },
} as const;
const out = (text: string) => void process.stdout.write(text);
const err = (text: string) => void process.stderr.write(text);

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        event: { type: 'string' },
        payload: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    err(`${(error as Error).message}\n${usage}`);
    return EXIT.usage;
  }
  const { positionals, values } = parsed;
  if (values.help) {
    out(usage);
    return EXIT.ok;
  }
  const name = positionals[0] as keyof typeof functions | undefined;
  const fn = name ? functions[name] : undefined;
  if (!name || !fn) {
    err(`${name ? `unknown function "${name}"` : 'which function?'}\n${usage}`);
    return EXIT.usage;
  }
  const timeout = Number(values.timeout ?? fn.defaultTimeout);
  if (!(timeout > 0)) {
    err(`--timeout must be a positive number of seconds, got ${values.timeout}\n${usage}`);
    return EXIT.usage;
  }
  try {
    let event: unknown;
    if (name === 'consumer') {
      if (!values.event) throw new CliError('--event FILE is required for the consumer', EXIT.usage);
      event = await eventOf({ file: values.event }, process.cwd());
    } else {
      try {
        event = JSON.parse(values.payload ?? '{}');
      } catch (error) {
        throw new CliError(`--payload is not JSON: ${(error as Error).message}`, EXIT.usage);
      }
    }
    const ref = { file: fileURLToPath(new URL(fn.file, import.meta.url)), exportName: 'handler' };
    const file = handlerFile(ref, process.cwd());
    return await invokeOnce(
      {
        load: () => loadHandler(file, ref),
        event,
        timeoutSeconds: timeout,
        functionName: name,
        needsKafka: fn.needsKafka,
        idempotency: false,
      },
      { out, err, env: process.env },
    );
  } catch (error) {
    const { type, message } = describeError(error);
    err(
      `${error instanceof CliError ? message : `${type}: ${message}`}\n${error instanceof CliError && error.exitCode === EXIT.usage ? usage : ''}`,
    );
    return error instanceof CliError ? error.exitCode : EXIT.error;
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
