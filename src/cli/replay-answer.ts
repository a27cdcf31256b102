// The replay function's answer as the tool reads it. The function is named by a user or a stack
// output: its answer is checked before a number of it is believed.
import type { DlqContents } from '../contract/dlq-contents.js';
import { CliError } from './exit-codes.js';

/** What one invocation of the replay function did (its summary; the fields the tool reads). */
export interface ReplayAnswer {
  readonly received: number;
  readonly replayed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly dryRun: boolean;
  readonly errors: ReadonlyArray<{ readonly reason: string }>;
  /** Source `s3`: the objects, and the last key read (where the next invocation goes on). */
  readonly objects?: { readonly received: number; readonly lastKey?: string };
  /** Dry runs from the queue. */
  readonly contents?: DlqContents;
}

/** What the tool sends: the replay function's payload (docs/replay.md, "The payload"). */
export interface ReplayPayload {
  readonly source?: 'dlq' | 's3';
  readonly maxMessages: number;
  readonly dryRun?: boolean;
  readonly targetTopic?: string;
  readonly filter?: { readonly topic?: string; readonly errorType?: string };
  readonly startAfter?: string;
}

const COUNTS = ['received', 'replayed', 'skipped', 'failed'] as const;

/** The answer, checked; `fn` names the function in the error when it is not a replay function's. */
export function replayAnswerOf(answer: unknown, fn: string): ReplayAnswer {
  const a = answer as Record<string, unknown> | null;
  const lacking =
    typeof a !== 'object' || a === null
      ? [...COUNTS, 'dryRun', 'errors']
      : [
          ...COUNTS.filter((k) => !Number.isInteger(a[k]) || (a[k] as number) < 0),
          ...(typeof a.dryRun === 'boolean' ? [] : ['dryRun']),
          ...(Array.isArray(a.errors) ? [] : ['errors']),
        ];
  if (lacking.length > 0) {
    throw new CliError(
      `${fn} is not a replay function: its answer lacks ${lacking.join(', ')}. Name the DeadLetterReplay's function (the stack output ReplayFunctionName).`,
    );
  }
  return a as unknown as ReplayAnswer;
}
