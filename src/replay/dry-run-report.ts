// What a dry run saw of the queue (or of the S3 on-failure objects): dead letters by topic, by
// error type and by age, and the oldest one. `kafka-lambda-consumers dlq report` shows it; it asks for no permission beyond
// invoking the replay function, which reads the queue anyway.
import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { AgeBuckets, DlqContents } from '../contract/dlq-contents.js';
import type { DeadLetterEnvelope, ReplayableRecord } from '../runtime/envelope.js';
import { FIRST_SENT_ATTRIBUTE } from '../contract/index.js';

const HOUR_MS = 3_600_000;

export function emptyContents(): DlqContents {
  return { byTopic: Object.create(null), byErrorType: Object.create(null), byAge: { underHour: 0, underDay: 0, underWeek: 0, older: 0 } };
}

/** Counts one dead letter a dry run read; `now` is when the run counts ages from. */
export function countDeadLetter(contents: DlqContents, message: SqsMessage, envelope: DeadLetterEnvelope, now = Date.now()): void {
  const sent = Number(message.MessageAttributes?.[FIRST_SENT_ATTRIBUTE]?.StringValue ?? message.Attributes?.SentTimestamp);
  // The first enqueue, which a re-enqueued dead letter carries along; anyone with SendMessage may have set the attribute.
  count(contents, envelope.record, envelope.error.type, Number.isFinite(sent) ? sent : now, now);
}

/**
 * Counts the records of one S3 on-failure object a dry run read (its body, already validated):
 * as error type, the condition Lambda gave up on the batch with (`requestContext.condition`,
 * e.g. RetryAttemptsExhausted: an object has no error per record); as age, since the object's
 * `timestamp` (when Lambda wrote it).
 */
export function countOnFailureObject(contents: DlqContents, body: string, records: readonly ReplayableRecord[], now = Date.now()): void {
  const object = JSON.parse(body) as { requestContext?: { condition?: unknown }; timestamp?: unknown };
  const condition = typeof object.requestContext?.condition === 'string' ? object.requestContext.condition : 'unknown condition';
  const written = typeof object.timestamp === 'string' ? Date.parse(object.timestamp) : Number.NaN;
  for (const { record } of records) count(contents, record, condition, Number.isFinite(written) ? written : now, now);
}

function count(
  contents: DlqContents,
  record: { topic: string; partition: number; offset: number },
  errorType: string,
  since: number,
  now: number,
): void {
  const { topic, partition, offset } = record;
  contents.byTopic[topic] = (contents.byTopic[topic] ?? 0) + 1;
  contents.byErrorType[errorType] = (contents.byErrorType[errorType] ?? 0) + 1;
  const age = now - since;
  const bucket: keyof AgeBuckets =
    age < HOUR_MS ? 'underHour' : age < 24 * HOUR_MS ? 'underDay' : age < 7 * 24 * HOUR_MS ? 'underWeek' : 'older';
  contents.byAge[bucket]++;
  if (!contents.oldest || since < Date.parse(contents.oldest.enqueuedAt)) {
    contents.oldest = { enqueuedAt: new Date(since).toISOString(), topic, partition, offset, errorType };
  }
}
