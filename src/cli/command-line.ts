// The command line, read with commander: `dlq replay` and `dlq report`, their targets and
// options. Reading it runs nothing, so it is tested on its own; `--help` anywhere prints the
// usage and exits 0, a bad command line prints the error and the usage and exits 2.
import { Command, CommanderError, Option } from 'commander';
import { wholeNumber } from './arguments.js';
import { EXIT } from './exit-codes.js';
import { addLocalCommands, type LocalAction } from './local-command-line.js';
import type { ReplayPayload } from './replay-answer.js';

export const PROGRAM = 'kafka-lambda-consumers';
/** The replay function's own bound on `maxMessages` (src/replay/request.ts). */
const MAX_MESSAGES_LIMIT = 10_000;

/** Where the replay runs: a deployed function, or the handler in this process (`--local`). */
export type Target =
  | { readonly kind: 'aws'; readonly stack?: string; readonly function?: string; readonly queueUrl?: string; readonly region?: string }
  | { readonly kind: 'local'; readonly timeoutSeconds: number };

export type ParsedCommand =
  | {
      readonly name: 'replay';
      readonly target: Target;
      readonly payload: ReplayPayload;
      readonly max?: number;
      readonly maxFailed?: number;
      readonly json: boolean;
    }
  | { readonly name: 'report'; readonly target: Target; readonly payload: ReplayPayload; readonly json: boolean }
  | { readonly name: 'local'; readonly action: LocalAction }
  /** Help was asked for and printed, or the command line was wrong (the error and usage printed). */
  | { readonly name: 'exit'; readonly code: number };

/** A `dlq` command, which src/cli/run.ts runs. */
export type DlqCommand = Extract<ParsedCommand, { name: 'replay' | 'report' }>;

export interface CommandLineOutput {
  readonly writeOut: (text: string) => void;
  readonly writeErr: (text: string) => void;
}

/** The options every dlq command takes: where the replay function is. */
function withTarget(command: Command): Command {
  return command
    .option('--stack <name>', "read the replay function and queue from this stack's outputs (ReplayFunctionName, DeadLetterQueueUrl)")
    .option('--function <name>', 'the replay function (name or ARN); overrides the stack output')
    .option('--queue-url <url>', 'its dead-letter queue, for what is left and the ETA; overrides the stack output')
    .option('--region <region>', "the AWS region (default: AWS_REGION or the profile's)")
    .option('--local', 'run the replay handler in this process against `npm run services` (its printed environment exported)')
    .option('--timeout <seconds>', "with --local: each invocation's deadline", wholeNumber(1, 900), 300)
    .addOption(
      new Option('--source <source>', "what to read: the dead-letter queue, or the S3 on-failure destination's objects")
        .choices(['dlq', 's3'])
        .default('dlq'),
    )
    .option('--json', 'print one JSON object as the last stdout line (progress goes to stderr)', false);
}

interface TargetOptions {
  stack?: string;
  function?: string;
  queueUrl?: string;
  region?: string;
  local?: boolean;
  timeout: number;
  source: 'dlq' | 's3';
  json: boolean;
}

function targetOf(o: TargetOptions, command: Command): Target {
  if (o.local) {
    if (o.stack || o.function || o.queueUrl)
      command.error('--local runs the replay here: leave out --stack, --function and --queue-url.', { exitCode: EXIT.usage });
    return { kind: 'local', timeoutSeconds: o.timeout };
  }
  if (!o.stack && !o.function)
    command.error('which replay function? Give --stack NAME, --function NAME, or --local.', { exitCode: EXIT.usage });
  return {
    kind: 'aws',
    ...(o.stack ? { stack: o.stack } : {}),
    ...(o.function ? { function: o.function } : {}),
    ...(o.queueUrl ? { queueUrl: o.queueUrl } : {}),
    ...(o.region ? { region: o.region } : {}),
  };
}

export function parseCommandLine(argv: readonly string[], output: CommandLineOutput): ParsedCommand {
  let parsed: ParsedCommand | undefined;
  const program = new Command(PROGRAM).description('Run a Kafka consumer for Lambda on this machine, and operate its dead letters.');
  const dlq = program.command('dlq').description('see what the dead-letter queue holds, and replay it');
  withTarget(dlq.command('replay'))
    .description('invoke the replay function again and again until nothing replayable is left (or --max, --max-failed, Ctrl-C)')
    .option('--topic <topic>', 'replay only dead letters of this topic (others stay in the queue)')
    .option('--error-type <type>', 'replay only dead letters of this error type')
    .option('--target-topic <topic>', "produce to this topic instead of each record's own (one the stack consumes)")
    .option('--dry-run', 'one invocation that reads and validates, produces and deletes nothing', false)
    .option(
      '--max-per-invocation <n>',
      "dead letters each invocation reads at most (the function's maxMessages)",
      wholeNumber(1, MAX_MESSAGES_LIMIT),
      1_000,
    )
    .option('--max <n>', 'dead letters to replay at most, over all invocations', wholeNumber(1))
    .option('--max-failed <n>', 'stop once this many failed, over all invocations', wholeNumber(1))
    .action(
      (
        o: TargetOptions & {
          topic?: string;
          errorType?: string;
          targetTopic?: string;
          dryRun: boolean;
          maxPerInvocation: number;
          max?: number;
          maxFailed?: number;
        },
        command: Command,
      ) => {
        const filter = {
          ...(o.topic !== undefined ? { topic: o.topic } : {}),
          ...(o.errorType !== undefined ? { errorType: o.errorType } : {}),
        };
        parsed = {
          name: 'replay',
          target: targetOf(o, command),
          payload: {
            source: o.source,
            maxMessages: o.maxPerInvocation,
            dryRun: o.dryRun,
            ...(o.targetTopic !== undefined ? { targetTopic: o.targetTopic } : {}),
            ...(Object.keys(filter).length ? { filter } : {}),
          },
          ...(o.max !== undefined ? { max: o.max } : {}),
          ...(o.maxFailed !== undefined ? { maxFailed: o.maxFailed } : {}),
          json: o.json,
        };
      },
    );
  withTarget(dlq.command('report'))
    .description("what the queue holds, by topic, error type and age, from one dry run of the replay function and the queue's attributes")
    .option('--sample <n>', 'dead letters the dry run reads at most', wholeNumber(1, MAX_MESSAGES_LIMIT), MAX_MESSAGES_LIMIT)
    .action((o: TargetOptions & { sample: number }, command: Command) => {
      parsed = {
        name: 'report',
        target: targetOf(o, command),
        payload: { source: o.source, maxMessages: o.sample, dryRun: true },
        json: o.json,
      };
    });
  const local = addLocalCommands(program, (action) => (parsed = { name: 'local', action }));
  // Every command: usage on errors, exit codes of our own, output where we say.
  for (const command of [program, dlq, ...dlq.commands, local, ...local.commands]) {
    command.exitOverride().showHelpAfterError().configureOutput(output);
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    return { name: 'exit', code: error.exitCode === 0 ? EXIT.ok : EXIT.usage };
  }
  // `dlq` or `local` alone, or nothing at all: the usage, as a bad command line.
  if (!parsed) {
    output.writeErr((argv[0] === 'dlq' ? dlq : argv[0] === 'local' ? local : program).helpInformation());
    return { name: 'exit', code: EXIT.usage };
  }
  return parsed;
}
