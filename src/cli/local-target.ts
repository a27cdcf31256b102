// --local: the replay handler run in this process, as `npm run invoke -- replay` does, against
// the brokers and SQS/S3 that `npm run services` started and printed (NAME=value lines to export).
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { describeError } from '../contract/errors.js';
import { ENV } from '../contract/index.js';
import { CliError } from './exit-codes.js';
import { replayAnswerOf, type ReplayAnswer, type ReplayPayload } from './replay-answer.js';

/** What the local replay reads from the environment `npm run services` prints, and by source where it reads. */
export const LOCAL_ENV = [ENV.kafkaBrokers, ENV.replayAllowedTopics, 'AWS_ENDPOINT_URL'] as const;
const SOURCE_ENV = { dlq: ENV.deadLetterQueueUrl, s3: ENV.onFailureBucket } as const;

type Handler = (payload: unknown, context: Context) => Promise<unknown>;

/**
 * The replay handler: the package's bundle (dist/replay/index.cjs, beside dist/cli/), or in the
 * repository its source (src/replay/index.ts, which tsx loads). A path computed at run time, so
 * the compiler does not pull the replay (and kafkajs, bundled into it) into dist/cli.
 */
async function loadHandler(): Promise<Handler> {
  const candidates = ['.cjs', '.ts'].map((ext) => new URL(`../replay/index${ext}`, import.meta.url));
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (!found)
    throw new CliError(
      `the replay handler is missing: none of ${candidates.map((u) => fileURLToPath(u)).join(', ')} exists; reinstall the package.`,
    );
  const module = (await import(pathToFileURL(fileURLToPath(found)).href)) as { handler?: Handler; default?: { handler?: Handler } };
  return (module.handler ?? module.default?.handler)!;
}

/** A Lambda-like context whose deadline is `timeoutMs` from the call. */
function context(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const name = 'local-replay';
  const nothing = () => undefined;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: nothing,
    fail: nothing,
    succeed: nothing,
  };
}

/**
 * An invoker of the handler in this process. The handler logs JSON lines (Powertools) to stdout,
 * which is the tool's own output: its logs go to stderr from now on, warnings and errors only,
 * and its metrics are off (they mean nothing locally) unless the environment says otherwise.
 */
export async function localInvoker(
  env: NodeJS.ProcessEnv,
  timeoutSeconds: number,
  source: 'dlq' | 's3' = 'dlq',
): Promise<(payload: ReplayPayload) => Promise<ReplayAnswer>> {
  const missing = [...LOCAL_ENV, SOURCE_ENV[source]].filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new CliError(
      `--local replays against the services \`npm run services\` started, and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: start it and export the NAME=value lines it prints in this shell.`,
    );
  }
  env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const handler = await loadHandler();
  return async (payload) => {
    let answer: unknown;
    try {
      answer = await handler(payload, context(timeoutSeconds * 1_000));
    } catch (error) {
      const { type, message } = describeError(error);
      throw new CliError(`the local replay failed: ${type}: ${message}`);
    }
    return replayAnswerOf(answer, 'the local replay');
  };
}
