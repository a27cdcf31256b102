// The `local` commands' command line: a user's own handler against the embedded broker and
// SQS/S3 (local/commands runs them). Reading it runs nothing, so it is tested on its own.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { wholeNumber } from './arguments.js';
import { EXIT } from './exit-codes.js';

/** A handler as `--handler FILE[#export]` names it. */
export interface HandlerRef {
  readonly file: string;
  /** @default 'handler' */
  readonly exportName: string;
}

/** A record's contents, from `--value JSON | --value-file F [--key K] [--header name=value]…`. */
export interface RecordContents {
  /** The value as given (JSON text, checked), or the file whose bytes are the value. */
  readonly value: { readonly text: string } | { readonly file: string };
  readonly key?: string;
  /** In order; a name may repeat. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** One record, as `local invoke` builds its event from flags. */
export interface RecordSpec extends RecordContents {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The mapping settings `local run` takes from flags; what is not given comes from cdk.json's context. */
export interface RunFlags {
  readonly topic?: string;
  readonly consumerGroupId?: string;
  readonly batchSize?: number;
  readonly maxBatchingWindowSeconds?: number;
  readonly startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  readonly reportBatchItemFailures?: boolean;
}

export type LocalAction =
  | {
      readonly name: 'invoke';
      readonly handler: HandlerRef;
      readonly event: { readonly file: string } | { readonly record: RecordSpec };
      readonly timeoutSeconds: number;
      /** The handler uses the idempotency ledger: `IDEMPOTENCY_TABLE` is set, as the construct's `idempotency` prop sets it. */
      readonly idempotency: boolean;
    }
  | { readonly name: 'services'; readonly topic?: string; readonly partitions: number; readonly idempotency: boolean }
  | {
      readonly name: 'run';
      readonly handler: HandlerRef;
      readonly settings: RunFlags;
      /** The CDK app's cdk.json, whose context keys give the mapping settings. */
      readonly cdkJson: string;
      readonly partitions: number;
      readonly timeoutSeconds: number;
      /** The handler uses the idempotency ledger: `IDEMPOTENCY_TABLE` is set, as the construct's `idempotency` prop sets it. */
      readonly idempotency: boolean;
    }
  | { readonly name: 'read'; readonly topic: string; readonly max?: number; readonly follow: boolean }
  | {
      readonly name: 'produce';
      readonly topic: string;
      /** @default the producer's choice, by key */
      readonly partition?: number;
      readonly record: RecordContents;
    };

/** The topic a record or the services default to, as `npm run services` names it. */
export const DEFAULT_TOPIC = 'orders';

function handlerRef(value: string): HandlerRef {
  const hash = value.lastIndexOf('#');
  const file = hash < 0 ? value : value.slice(0, hash);
  const exportName = hash < 0 ? 'handler' : value.slice(hash + 1);
  if (!file || !exportName) throw new InvalidArgumentError('give FILE or FILE#export, for example src/handler.ts#handler.');
  return { file, exportName };
}

function jsonText(value: string): string {
  try {
    JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON (${(error as Error).message}); for a value that is not JSON, use --value-file FILE.`);
  }
  return value;
}

function header(value: string, previous: Array<[string, string]> = []): Array<[string, string]> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('give name=value, for example --header traceparent=00-abc-01.');
  return [...previous, [value.slice(0, eq), value.slice(eq + 1)]];
}

/** The flags that give a record's contents. */
function withRecordOptions(command: Command): Command {
  return command
    .option('--value <json>', "the record's value, as JSON text", jsonText)
    .option('--value-file <file>', "the record's value: this file's bytes")
    .option('--key <key>', "the record's key (text)")
    .option('--header <name=value>', 'a record header (repeat for more; order is kept)', header);
}

interface RecordOptions {
  value?: string;
  valueFile?: string;
  key?: string;
  header?: Array<[string, string]>;
}

/** The record the flags give; exactly one value flag (or `--event`, where `alternative` allows it). */
function recordOf(o: RecordOptions, command: Command, alternative?: { flag: string; given: boolean }): RecordContents | undefined {
  const given = [alternative?.given && alternative.flag, o.value !== undefined && '--value', o.valueFile && '--value-file'].filter(Boolean);
  if (given.length !== 1)
    command.error(
      given.length === 0
        ? `what ${alternative ? 'event' : 'value'}? Give ${alternative ? `${alternative.flag} FILE, or a record with ` : ''}--value JSON or --value-file FILE.`
        : `give one of ${given.join(', ')}, not several.`,
      { exitCode: EXIT.usage },
    );
  if (alternative?.given) {
    if (o.key !== undefined || o.header)
      command.error(`--key and --header build a record; with ${alternative.flag} the file holds the whole event.`, {
        exitCode: EXIT.usage,
      });
    return undefined;
  }
  return {
    value: o.value !== undefined ? { text: o.value } : { file: o.valueFile! },
    ...(o.key !== undefined ? { key: o.key } : {}),
    headers: o.header ?? [],
  };
}

const IDEMPOTENCY_HELP =
  "set IDEMPOTENCY_TABLE (the embedded DynamoDB's ledger table) for a handler with kafkaConsumer's idempotency option, as the construct's idempotency prop does (and IDEMPOTENCY_EXPIRY_SECONDS, when exported)";

const HANDLER_HELP = 'the module and its export (default: handler), e.g. src/handler.ts#handler; TypeScript loads through tsx';

/** Adds `local invoke|services|run|produce|read` to the program; `found` receives what was read. */
export function addLocalCommands(program: Command, found: (action: LocalAction) => void): Command {
  const local = program
    .command('local')
    .description('run your handler on this machine: the embedded Kafka broker and SQS/S3, no Docker, no AWS account');
  const invoke = local
    .command('invoke')
    .description(
      'invoke the handler once with an event: a file, or one record built from flags (base64 and the event shape done for you); the last stdout line is {"response": …, "deadLetters": […]}',
    )
    .requiredOption('--handler <file[#export]>', HANDLER_HELP, handlerRef)
    .option('--event <file>', 'the whole Kafka event, as Lambda sends it (JSON)');
  withRecordOptions(invoke)
    .option('--topic <topic>', "the record's topic", DEFAULT_TOPIC)
    .option('--partition <n>', "the record's partition", wholeNumber(0), 0)
    .option('--offset <n>', "the record's offset", wholeNumber(0), 0)
    .option('--timeout <seconds>', "the function's timeout", wholeNumber(1, 900), 30)
    .option('--idempotency', IDEMPOTENCY_HELP, false)
    .action(
      (
        o: RecordOptions & {
          handler: HandlerRef;
          event?: string;
          topic: string;
          partition: number;
          offset: number;
          timeout: number;
          idempotency: boolean;
        },
        command: Command,
      ) => {
        const record = recordOf(o, command, { flag: '--event', given: Boolean(o.event) });
        found({
          name: 'invoke',
          handler: o.handler,
          event: record ? { record: { topic: o.topic, partition: o.partition, offset: o.offset, ...record } } : { file: o.event! },
          timeoutSeconds: o.timeout,
          idempotency: o.idempotency,
        });
      },
    );
  local
    .command('services')
    .description(
      'start the embedded broker, SQS/S3 and DynamoDB (and the dead-letter queue, on-failure queue, bucket and ledger table), print NAME=value lines to export, then READY; Ctrl-C stops them',
    )
    .option('--topic <topic>', `a topic to create (default: KAFKA_TOPIC or ${DEFAULT_TOPIC})`)
    .option('--partitions <n>', 'its partitions', wholeNumber(1, 1_000), 6)
    .option(
      '--idempotency',
      'also print IDEMPOTENCY_TABLE (the ledger table is created either way), for a handler with the idempotency option',
      false,
    )
    .action((o: { topic?: string; partitions: number; idempotency: boolean }) => {
      found({ name: 'services', ...(o.topic ? { topic: o.topic } : {}), partitions: o.partitions, idempotency: o.idempotency });
    });
  local
    .command('run')
    .description(
      "consume a topic with the handler as Lambda's event source mapping does (batches, retries, partial batch responses, dead letters); Ctrl-C stops",
    )
    .requiredOption('--handler <file[#export]>', HANDLER_HELP, handlerRef)
    .option('--topic <topic>', "the topic (default: cdk.json's context `topics`, else KAFKA_TOPIC)")
    .option('--consumer-group-id <id>', "the mapping's consumer group (default: context consumerGroupId)")
    .option('--batch-size <n>', 'records per invocation at most (default: context batchSize, else 100)', wholeNumber(1, 10_000))
    .option('--batching-window <seconds>', 'how long to gather a batch (default: context maxBatchingWindowSeconds)', wholeNumber(0, 300))
    .addOption(
      new Option(
        '--starting-position <position>',
        'where a new group starts (default: context startingPosition, else TRIM_HORIZON)',
      ).choices(['LATEST', 'TRIM_HORIZON']),
    )
    .option('--no-report-batch-item-failures', 'turn partial batch responses off (a failed batch is retried whole)')
    .option('--cdk-json <file>', 'the CDK app whose context gives the settings not given here', 'cdk.json')
    .option('--partitions <n>', 'partitions of the topic, when the embedded broker creates it', wholeNumber(1, 1_000), 6)
    .option('--timeout <seconds>', "the function's timeout", wholeNumber(1, 900), 60)
    .option('--idempotency', IDEMPOTENCY_HELP, false)
    .action(
      (o: {
        handler: HandlerRef;
        topic?: string;
        consumerGroupId?: string;
        batchSize?: number;
        batchingWindow?: number;
        startingPosition?: 'LATEST' | 'TRIM_HORIZON';
        reportBatchItemFailures: boolean;
        cdkJson: string;
        partitions: number;
        timeout: number;
        idempotency: boolean;
      }) => {
        const settings: RunFlags = {
          ...(o.topic ? { topic: o.topic } : {}),
          ...(o.consumerGroupId ? { consumerGroupId: o.consumerGroupId } : {}),
          ...(o.batchSize !== undefined ? { batchSize: o.batchSize } : {}),
          ...(o.batchingWindow !== undefined ? { maxBatchingWindowSeconds: o.batchingWindow } : {}),
          ...(o.startingPosition ? { startingPosition: o.startingPosition } : {}),
          ...(o.reportBatchItemFailures === false ? { reportBatchItemFailures: false } : {}),
        };
        found({
          name: 'run',
          handler: o.handler,
          settings,
          cdkJson: o.cdkJson,
          partitions: o.partitions,
          timeoutSeconds: o.timeout,
          idempotency: o.idempotency,
        });
      },
    );
  local
    .command('read')
    .description('print the records a topic holds, one JSON line each (key and value as text), from the beginning')
    .requiredOption('--topic <topic>', 'the topic')
    .option('--max <n>', 'stop after this many records', wholeNumber(1))
    .option('--follow', 'keep reading new records until Ctrl-C (default: stop at the end of what the topic held at the start)', false)
    .action((o: { topic: string; max?: number; follow: boolean }) => {
      found({ name: 'read', topic: o.topic, ...(o.max !== undefined ? { max: o.max } : {}), follow: o.follow });
    });
  withRecordOptions(
    local
      .command('produce')
      .description(
        'produce one record to a topic of the brokers KAFKA_BROKERS names (`local services` prints it), for `local run` to consume',
      )
      .requiredOption('--topic <topic>', 'the topic'),
  )
    .option('--partition <n>', "the partition (default: the producer's choice, by key)", wholeNumber(0))
    .action((o: RecordOptions & { topic: string; partition?: number }, command: Command) => {
      found({
        name: 'produce',
        topic: o.topic,
        ...(o.partition !== undefined ? { partition: o.partition } : {}),
        record: recordOf(o, command)!,
      });
    });
  return local;
}
