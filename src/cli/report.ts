// `dlq report`: what the queue holds, from one dry run of the replay function (by topic, error
// type and age, and the oldest dead letter) and the queue's attributes (how many in all).
import type { DlqContents } from '../contract/dlq-contents.js';
import { duration } from './progress.js';
import type { QueueDepth } from './queue-depth.js';
import type { ReplayAnswer } from './replay-answer.js';

export interface Report {
  readonly source: 'dlq' | 's3';
  /** The queue's attributes; `unknown` says why they could not be read. Absent when the queue is not known. */
  readonly queue?: QueueDepth | { readonly unknown: string };
  /** What the dry run read (`read`) and would have replayed, left on purpose, or could not read or may not replay. */
  readonly read: number;
  readonly replayable: number;
  readonly skipped: number;
  readonly failed: number;
  /** By topic, error type and age (absent from an older replay function's answer). */
  readonly contents?: DlqContents;
  /** The first reasons the dry run gave for what it left. */
  readonly reasons: readonly string[];
}

const REASONS_SHOWN = 10;

export function reportOf(answer: ReplayAnswer, source: 'dlq' | 's3', queue?: Report['queue']): Report {
  return {
    source,
    ...(queue ? { queue } : {}),
    read: answer.received,
    replayable: answer.replayed,
    skipped: answer.skipped,
    failed: answer.failed,
    ...(answer.contents ? { contents: answer.contents } : {}),
    reasons: answer.errors.slice(0, REASONS_SHOWN).map((e) => e.reason),
  };
}

const n = (value: number) => value.toLocaleString('en-US');

/** Rows of `name  count` (largest first, unless `inOrder`), names padded to one column. */
function table(title: string, counts: Record<string, number>, inOrder = false): string[] {
  const rows = Object.entries(counts);
  if (!inOrder) rows.sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
  if (rows.length === 0) return [];
  const width = Math.max(title.length, ...rows.map(([name]) => name.length));
  const countWidth = Math.max(5, ...rows.map(([, c]) => n(c).length));
  return [
    '',
    `${title.padEnd(width)}  ${'count'.padStart(countWidth)}`,
    ...rows.map(([name, c]) => `${name.padEnd(width)}  ${n(c).padStart(countWidth)}`),
  ];
}

/** The report as a terminal shows it. */
export function renderReport(report: Report, now = Date.now()): string {
  const lines: string[] = [];
  const { queue } = report;
  if (queue && 'unknown' in queue) lines.push(`Queue: size unknown (${queue.unknown})`);
  else if (queue)
    lines.push(`Queue: ~${n(queue.visible + queue.inFlight)} dead letters (${n(queue.visible)} visible, ${n(queue.inFlight)} in flight)`);
  const what = report.source === 's3' ? 'records of the S3 on-failure objects' : 'dead letters';
  lines.push(
    `A dry run read ${n(report.read)} ${what}: ${n(report.replayable)} replayable, ${n(report.skipped)} skipped, ${n(report.failed)} unreadable or not replayable here.`,
  );
  if (queue && !('unknown' in queue) && report.read < queue.visible + queue.inFlight) {
    lines.push(
      `The counts below are of that sample (the first the queue handed out), not of the whole queue: --sample reads up to 10,000.`,
    );
  }
  const { contents } = report;
  if (contents) {
    lines.push(...table('Topic', contents.byTopic), ...table('Error type', contents.byErrorType));
    lines.push(
      ...table(
        report.source === 's3' ? 'Age (since Lambda wrote the object)' : 'Age (since first enqueued)',
        {
          'under 1 hour': contents.byAge.underHour,
          '1 hour to 1 day': contents.byAge.underDay,
          '1 to 7 days': contents.byAge.underWeek,
          '7 days or more': contents.byAge.older,
        },
        true,
      ),
    );
    const { oldest } = contents;
    if (oldest) {
      lines.push(
        '',
        `Oldest: ${oldest.enqueuedAt} (${duration(now - Date.parse(oldest.enqueuedAt))} ago), ${oldest.topic} partition ${oldest.partition} offset ${oldest.offset}, ${oldest.errorType}`,
      );
    }
  } else {
    lines.push("(No counts by topic, error type and age: the replay function answered without them; deploy this version's.)");
  }
  if (report.reasons.length) lines.push('', 'Left by the dry run:', ...report.reasons.map((r) => `  ${r}`));
  return `${lines.join('\n')}\n`;
}
