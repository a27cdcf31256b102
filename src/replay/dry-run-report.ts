// What a dry run saw of the queue: dead letters by topic, by error type and by age, and the
// oldest one. `kafka-lambda-consumers dlq report` shows it; it asks for no permission beyond
// invoking the replay function, which reads the queue anyway.
import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { AgeBuckets, DlqContents } from '../contract/dlq-contents.js';
import type { DeadLetterEnvelope } from '../runtime/envelope.js';
import { FIRST_SENT_ATTRIBUTE } from './replayer.js';

const HOUR_MS = 3_600_000;

export function emptyContents(): DlqContents {
  return { byTopic: Object.create(null), byErrorType: Object.create(null), byAge: { underHour: 0, underDay: 0, underWeek: 0, older: 0 } };
}

/** Counts one dead letter a dry run read; `now` is when the run counts ages from. */
export function countDeadLetter(contents: DlqContents, message: SqsMessage, envelope: DeadLetterEnvelope, now = Date.now()): void {
  const { topic, partition, offset } = envelope.record;
  contents.byTopic[topic] = (contents.byTopic[topic] ?? 0) + 1;
  contents.byErrorType[envelope.error.type] = (contents.byErrorType[envelope.error.type] ?? 0) + 1;
  // The first enqueue, which a re-enqueued dead letter carries along.
  const sent = Number(message.MessageAttributes?.[FIRST_SENT_ATTRIBUTE]?.StringValue ?? message.Attributes?.SentTimestamp);
  const enqueued = Number.isFinite(sent) ? sent : now; // anyone with SendMessage may have set the attribute
  const age = now - enqueued;
  const bucket: keyof AgeBuckets = age < HOUR_MS ? 'underHour' : age < 24 * HOUR_MS ? 'underDay' : age < 7 * 24 * HOUR_MS ? 'underWeek' : 'older';
  contents.byAge[bucket]++;
  if (!contents.oldest || enqueued < Date.parse(contents.oldest.enqueuedAt)) {
    contents.oldest = { enqueuedAt: new Date(enqueued).toISOString(), topic, partition, offset, errorType: envelope.error.type };
  }
}
