// The exit codes a script can act on (docs/replay.md lists them), and the error that carries one.
import { KafkaConsumersError } from '../contract/errors.js';

export const EXIT = {
  /** Drained: nothing replayable left (or a dry run / report done). */
  ok: 0,
  /** The command could not do its work: no stack, no permission, a function error… (the message says which). */
  error: 1,
  /** A bad command line: the usage is printed. */
  usage: 2,
  /** `--max` reached: more may be left. */
  maxReached: 3,
  /** Stopped on failures: `--max-failed` reached, or only dead letters that fail are left. */
  failures: 4,
  /** Ctrl-C (SIGINT): stopped after the invocation in flight. */
  interrupted: 130,
} as const;

/** An error the tool explains in one message, without a stack trace, and exits with `exitCode`. */
export class CliError extends KafkaConsumersError {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}

/**
 * A {@link CliError}, from this module or from the local tools' bundle (dist/local/commands.js
 * carries its own copy of the class, so `instanceof` alone misses its errors).
 */
export function isCliError(error: unknown): error is CliError {
  return (
    error instanceof CliError || (error instanceof Error && error.name === 'CliError' && typeof (error as CliError).exitCode === 'number')
  );
}
