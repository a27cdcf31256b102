// `local run --handler FILE[#export]`: the event source mapping emulator consuming a topic with
// the user's handler, in sandboxes (worker threads) stopped at the function's timeout, as Lambda
// does. The mapping's settings come from the flags, else from the CDK app's cdk.json context
// (the keys the repository's app reads), else the mapping's defaults. A progress line on
// stderr; Ctrl-C stops the emulator, the sandboxes and the services it started.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import type { LocalAction } from '../../src/cli/local-command-line.js';
import type { Io } from '../../src/cli/run.js';
import { ENV } from '../../src/contract/index.js';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { mappingSettingsFromContext } from '../../src/mapping/mapping-context.js';
import { effectiveMappingSettings, type MappingSettings } from '../../src/mapping/mapping-settings.js';
import { EventSourceMappingEmulator } from '../esm/emulator.js';
import { sqsOnFailureDestination } from '../esm/on-failure-destinations.js';
import { SandboxPool } from '../esm/sandbox.js';
import { startLocalServices } from '../services.js';
import { handlerFile, loadHandler, loadTypeScript } from './handler-module.js';
import { untilAborted } from './stop.js';

type RunAction = Extract<LocalAction, { name: 'run' }>;

/** cdk.json's context, or nothing when the file is not there (then flags and defaults only). */
function cdkContext(file: string, cwd: string, io: Io): Record<string, unknown> {
  const resolved = path.resolve(cwd, file);
  if (!existsSync(resolved)) {
    io.err(`no ${resolved}: the mapping settings are the flags' and the defaults.\n`);
    return {};
  }
  try {
    return ((JSON.parse(readFileSync(resolved, 'utf8')) as { context?: Record<string, unknown> }).context ?? {}) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(`--cdk-json: ${resolved} is not JSON: ${(error as Error).message}`, EXIT.usage);
  }
}

/** The mapping as the CDK app would deploy it, with the flags over cdk.json's context. */
export function runSettings(action: RunAction, context: Record<string, unknown>, env: NodeJS.ProcessEnv): MappingSettings {
  const { topic: flagTopic, ...flags } = action.settings;
  const fromContext = mappingSettingsFromContext((key) => context[key]);
  const topic = flagTopic ?? (fromContext.topics.length === 1 ? fromContext.topics[0] : undefined) ?? env.KAFKA_TOPIC;
  if (!topic)
    throw new CliError(
      fromContext.topics.length > 1
        ? `cdk.json's context names several topics (${fromContext.topics.join(', ')}): give the one to consume with --topic.`
        : 'which topic? Give --topic TOPIC (or a `topics` context key in cdk.json, or KAFKA_TOPIC).',
      EXIT.usage,
    );
  return { ...fromContext, ...flags, topics: [topic] };
}

export async function runCommand(action: RunAction, io: Io): Promise<number> {
  const cwd = process.cwd();
  const file = handlerFile(action.handler, cwd);
  const settings = runSettings(action, cdkContext(action.cdkJson, cwd, io), io.env);
  // What `cdk deploy` would refuse, this refuses (and it gives the defaults the emulator applies).
  const effective = effectiveMappingSettings(settings);
  const topic = settings.topics[0]!;
  const stopAll: Array<() => Promise<void>> = [];
  const stopEverything = async () => {
    for (const stop of stopAll.reverse()) await stop().catch(() => undefined);
  };
  try {
    const services = await startLocalServices({
      topic,
      partitions: action.partitions,
      environment: io.env,
      idempotency: action.idempotency,
    });
    stopAll.push(() => services.stop());
    // What the construct puts in the function's environment; the sandboxes start with it.
    Object.assign(io.env, services.env, { [ENV.reportBatchItemFailures]: String(effective.reportBatchItemFailures) });
    // A missing export is named now, not retried on every batch; sandboxes load TypeScript through tsx too.
    await loadHandler(file, action.handler);
    await loadTypeScript();
    const sandboxes = new SandboxPool({ module: file, exportName: action.handler.exportName });
    stopAll.push(() => sandboxes.close());
    // Route by the configured endpoint, not the queue URL's host (fauxqs names hosts the SDK cannot parse).
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
    stopAll.push(async () => sqs.destroy());
    const emulator = new EventSourceMappingEmulator({
      kafka: await createKafka(io.env, 'local-run'),
      topic,
      settings,
      bootstrapServers: services.env.KAFKA_BROKERS,
      handler: sandboxes.handler,
      functionTimeoutMs: action.timeoutSeconds * 1_000,
      onFailure: sqsOnFailureDestination(sqs, services.env.ON_FAILURE_QUEUE_URL),
    });
    stopAll.push(() => emulator.stop());
    await emulator.start();
    io.err(
      `consuming ${topic} on ${services.env.KAFKA_BROKERS} as group ${emulator.groupId} (batch size ${effective.batchSize}, partial batch responses ${effective.reportBatchItemFailures ? 'on' : 'off'}); dead letters go to ${services.env.DLQ_URL}. Ctrl-C stops.\n`,
    );
    const s = emulator.stats;
    let last = '';
    const progress = setInterval(() => {
      const line = `${s.processed} processed · ${s.retried} retried · ${s.deadLettered} dead-lettered · ${s.invocations} invocation${s.invocations === 1 ? '' : 's'} · lag ${s.offsetLag}`;
      if (line === last) return;
      last = line;
      io.err(io.errIsTTY ? `\r${line}   ` : `${line}\n`);
    }, 1_000);
    stopAll.push(async () => clearInterval(progress));
    const failed = new Promise<void>((resolve) => {
      const check = setInterval(() => emulator.error && (clearInterval(check), resolve()), 250);
      stopAll.push(async () => clearInterval(check));
    });
    await Promise.race([untilAborted(io.stop), failed]);
    io.err(io.errIsTTY ? '\n' : '');
    if (emulator.error) throw emulator.error;
    io.err('stopping: the emulator (what it did not finish stays uncommitted), the sandboxes, the services it started…\n');
    return EXIT.ok;
  } finally {
    await stopEverything();
  }
}
