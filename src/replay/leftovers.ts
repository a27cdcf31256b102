// What a replay run leaves in the queue (at the replay limit, filtered out, malformed, not
// produced): re-sent as new messages when SQS would stop counting their age for the
// oldest-dead-letter alarm, else made visible again at once.
import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import { FIRST_SENT_ATTRIBUTE, RENEWAL_ATTRIBUTES_BYTES } from '../contract/index.js';
import { loadS3, loadSqs } from '../runtime/aws-clients.js';
import { SQS_MAX_BYTES } from '../runtime/dead-letter-writer.js';
import type { ReplaySummary } from './replayer.js';

/** The S3 object a pointer message named, as read. */
export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly body: string;
}

/** A message this run leaves in the queue. */
export interface Left {
  readonly message: SqsMessage;
  readonly object?: StoredObject;
  /** False once its record was produced: a copy would replay it once more. */
  readonly renewable: boolean;
}

/**
 * SQS leaves a message out of ApproximateAgeOfOldestMessage once it has been received three
 * times (SQS developer guide, CloudWatch metrics): a dead letter this run leaves after its
 * second receive is sent again as a new message, so the age alarm keeps seeing it.
 */
export const RENEW_AT_RECEIVE_COUNT = 2;

/** What a run leaves in the queue: re-sent when SQS would stop counting its age, else visible again at once. */
export async function leaveInQueue(queueUrl: string, left: Left[], summary: ReplaySummary): Promise<void> {
  const renew = left.filter((l) => l.renewable && Number(l.message.Attributes?.ApproximateReceiveCount) >= RENEW_AT_RECEIVE_COUNT);
  const release = left.filter((l) => !renew.includes(l)).map((l) => l.message);
  // SendMessageBatch: at most 10 entries and 1 MiB in all (the writer leaves room in each body for the attribute added here).
  let batch: Left[] = [];
  let bytes = 0;
  const flush = async () => {
    const kept = await resend(queueUrl, batch);
    for (const message of kept)
      summary.errors.push({
        messageId: message.MessageId ?? '?',
        reason: 'left in the queue but not re-enqueued: once received 3 times, SQS stops counting its age for the oldest-dead-letter alarm',
      });
    release.push(...kept);
    batch = [];
    bytes = 0;
  };
  for (const l of renew) {
    const attributes = Object.entries(l.message.MessageAttributes ?? {}).reduce(
      (n, [name, a]) => n + name.length + (a.DataType?.length ?? 0) + Buffer.byteLength(a.StringValue ?? ''),
      0,
    );
    const size = Buffer.byteLength(l.message.Body ?? '') + attributes + RENEWAL_ATTRIBUTES_BYTES;
    if (batch.length === 10 || (batch.length > 0 && bytes + size > SQS_MAX_BYTES)) await flush();
    batch.push(l);
    bytes += size;
  }
  if (batch.length > 0) await flush();
  await makeVisible(queueUrl, release);
}

/**
 * Sends up to 10 dead letters again as new messages (an offloaded one's S3 object put again
 * first, so its expiry restarts with the pointer's retention), then deletes the originals.
 * Returns the originals that must instead be made visible; a failed delete leaves a copy
 * and its original: a duplicate dead letter, never a lost one.
 */
async function resend(queueUrl: string, batch: Left[]): Promise<SqsMessage[]> {
  const keep: SqsMessage[] = [];
  const ready: Left[] = [];
  for (const l of batch) {
    if (l.object) {
      const { sdk, client } = await loadS3();
      const put = await client
        .send(
          new sdk.PutObjectCommand({ Bucket: l.object.bucket, Key: l.object.key, Body: l.object.body, ContentType: 'application/json' }),
        )
        .then(
          () => true,
          () => false,
        );
      if (!put) {
        keep.push(l.message);
        continue;
      } // its copy could not be stored: made visible instead
    }
    ready.push(l);
  }
  if (ready.length === 0) return keep;
  const { sdk, client } = await loadSqs();
  const sent = await client
    .send(
      new sdk.SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ready.map(({ message }, i) => ({
          Id: String(i),
          MessageBody: message.Body!,
          MessageAttributes: {
            ...message.MessageAttributes,
            [FIRST_SENT_ATTRIBUTE]: message.MessageAttributes?.[FIRST_SENT_ATTRIBUTE] ?? {
              DataType: 'Number',
              StringValue: message.Attributes?.SentTimestamp ?? String(Date.now()),
            },
          },
        })),
      }),
    )
    .then(
      (out) => new Set((out.Successful ?? []).map((s) => Number(s.Id))),
      () => new Set<number>(),
    );
  const copied = ready.filter((_, i) => sent.has(i));
  keep.push(...ready.filter((_, i) => !sent.has(i)).map((l) => l.message));
  if (copied.length) {
    const out = await client
      .send(
        new sdk.DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: copied.map((l, i) => ({ Id: String(i), ReceiptHandle: l.message.ReceiptHandle! })),
        }),
      )
      .catch(() => ({ Failed: copied.map((_, i) => ({ Id: String(i) })) }));
    keep.push(...(out.Failed ?? []).map((f) => copied[Number(f.Id)]!.message));
  }
  return keep;
}

// Messages a run leaves in the queue become visible again at once, not after the long timeout.
async function makeVisible(queueUrl: string, messages: SqsMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const { sdk, client } = await loadSqs();
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    await client
      .send(
        new sdk.ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined); // best effort: they become visible after the timeout anyway
  }
}
