// Replays the records an S3 on-failure destination keeps: Lambda writes one object per batch it
// gave up on, holding the failure metadata and, as `payload`, the whole invocation event as a
// JSON string (Lambda guide, "Capturing discarded batches for an Amazon MSK event source").
// An object is replayed whole or left whole: it is deleted only once Kafka acknowledged every
// one of its records, and left as it is otherwise, so nothing in it can be lost.
import type { CompressionTypes, Producer } from 'kafkajs';
import { ON_FAILURE_PREFIX } from '../contract.js';
import { loadS3 } from '../runtime/aws-clients.js';
import { replayableRecord, type ReplayableRecord } from '../runtime/envelope.js';
import { KafkaConsumersError } from '../runtime/errors.js';
import { decodeEvent, recordAt } from '../runtime/event.js';
import { decodeField } from '../runtime/record.js';
import { RetryPolicy, isTransientAwsError, sendWithPartialRetries } from '../runtime/retry.js';
import { topicMessagesOf, type ReplaySummary } from './replayer.js';
import type { ReplaySettings } from './request.js';

/** An object under the on-failure prefix that is not a readable on-failure record: the message says what is wrong. */
export class MalformedOnFailureObjectError extends KafkaConsumersError {
  override name = 'MalformedOnFailureObjectError';
}

const isByte = (b: unknown) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255;

/**
 * The records of an S3 on-failure object, partition by partition in the event's order, with their
 * replay counts read from their own `x-dlq-replay-count` headers.
 * @throws MalformedOnFailureObjectError naming the first thing that is wrong
 */
export function parseOnFailureObject(body: string): ReplayableRecord[] {
  const payload = parseJson(body, 'the object')?.payload;
  if (typeof payload !== 'string') throw new MalformedOnFailureObjectError('"payload" must be the invocation event as a JSON string, as Lambda writes it to an S3 on-failure destination');
  let partitions;
  try {
    partitions = decodeEvent(parseJson(payload, '"payload"')).partitions;
  } catch (error) {
    if (error instanceof MalformedOnFailureObjectError) throw error;
    throw new MalformedOnFailureObjectError(`"payload": ${(error as Error).message}`);
  }
  const records: ReplayableRecord[] = [];
  for (const partition of partitions) {
    for (const entry of partition.entries) {
      const record = recordAt(partition, entry);
      const where = `${record.partitionKey}@${record.offset}`;
      if (!(entry.headers ?? []).every((h) => typeof h === 'object' && h !== null && Object.values(h).every((v) => Array.isArray(v) && v.every(isByte)))) {
        throw new MalformedOnFailureObjectError(`the headers of ${where} must be {name: [bytes]} objects`);
      }
      try {
        decodeField(record, 'key');
        decodeField(record, 'value');
      } catch (error) {
        throw new MalformedOnFailureObjectError((error as Error).message);
      }
      records.push(replayableRecord(record));
    }
  }
  if (records.length === 0) throw new MalformedOnFailureObjectError('"payload" holds no records');
  return records;
}

function parseJson(text: string, what: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : null;
  } catch {
    throw new MalformedOnFailureObjectError(`${what} is not JSON`);
  }
}

export interface OnFailureReplayerOptions {
  /** The S3 on-failure destination's bucket (`ON_FAILURE_BUCKET`). */
  readonly bucket: string;
  /** Connected on first use; never in a dry run. */
  readonly producer: () => Promise<Producer>;
  /** Records replayed this many times already keep their object in the bucket. */
  readonly replayLimit: number;
  /** The codec record batches are produced with (`KAFKA_COMPRESSION`). @default none */
  readonly compression?: CompressionTypes;
  /** Retries of DeleteObject. @default 5 attempts, 50 ms to 1 s */
  readonly retry?: RetryPolicy;
}

/**
 * Moves the records of an S3 on-failure destination back onto Kafka, one object at a time in key
 * order (per topic-partition, the order Lambda discarded them in, to the second).
 */
export class OnFailureObjectReplayer {
  readonly #retry: RetryPolicy;

  constructor(private readonly options: OnFailureReplayerOptions) {
    this.#retry = options.retry ?? new RetryPolicy({ maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1_000, isRetryable: isTransientAwsError });
  }

  async run(settings: ReplaySettings, deadline: number): Promise<ReplaySummary> {
    const objects = { received: 0, replayed: 0, skipped: 0, failed: 0 };
    const summary: ReplaySummary = { received: 0, replayed: 0, skipped: 0, failed: 0, dryRun: settings.dryRun, objects, errors: [] };
    for await (const key of this.#keys(settings.maxMessages, deadline)) {
      objects.received++;
      objects[await this.#replay(key, settings, summary, deadline)]++;
    }
    return summary;
  }

  /** Keys under the on-failure prefix, `max` at most, listed page by page until the deadline. */
  async *#keys(max: number, deadline: number): AsyncGenerator<string> {
    const { sdk, client } = await loadS3();
    let listed = 0;
    let token: string | undefined;
    do {
      const page = await client.send(new sdk.ListObjectsV2Command({
        Bucket: this.options.bucket, Prefix: ON_FAILURE_PREFIX, MaxKeys: Math.min(1_000, max - listed), ...(token ? { ContinuationToken: token } : {}),
      }));
      for (const { Key } of page.Contents ?? []) {
        if (listed === max || Date.now() >= deadline) return; // no new object this close to the deadline
        listed++;
        yield Key!;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && listed < max);
  }

  /** Replays one object's records and deletes it; says which count the object goes to. */
  async #replay(key: string, settings: ReplaySettings, summary: ReplaySummary, deadline: number): Promise<'replayed' | 'skipped' | 'failed'> {
    const records = await this.#read(key).then(parseOnFailureObject, (error: Error) => new Error(`could not be read: ${error.message}`)).catch((error: Error) => error);
    if (records instanceof Error) {
      summary.errors.push({ objectKey: key, reason: `${records instanceof MalformedOnFailureObjectError ? 'malformed on-failure object: ' : ''}${records.message}; left in the bucket` });
      return 'failed';
    }
    summary.received += records.length;
    const { topic } = settings.filter;
    if (topic && records.some((r) => r.record.topic !== topic)) {
      summary.skipped += records.length;
      return 'skipped';
    }
    const spent = records.find((r) => r.replayCount >= this.options.replayLimit);
    if (spent) {
      summary.skipped += records.length;
      const { topic: at, partition, offset } = spent.record;
      summary.errors.push({ objectKey: key, topic: at, partition, offset, reason: `a record replayed ${spent.replayCount} times already (limit ${this.options.replayLimit}); its object is replayed whole or not at all, so it stays in the bucket` });
      return 'skipped';
    }
    if (settings.dryRun) {
      summary.replayed += records.length;
      return 'replayed';
    }
    try {
      const producer = await this.options.producer();
      await producer.sendBatch({ acks: -1, compression: this.options.compression, topicMessages: topicMessagesOf(records, settings.targetTopic) });
    } catch (error) {
      summary.failed += records.length;
      summary.errors.push({ objectKey: key, reason: `produce failed, left in the bucket: ${(error as Error).message}` });
      return 'failed';
    }
    summary.replayed += records.length;
    const [notDeleted] = await this.#delete(key, deadline);
    if (!notDeleted) return 'replayed';
    summary.errors.push({ objectKey: key, reason: `replayed, but not deleted from the bucket (it may be replayed again): ${(notDeleted.error as Error).message}` });
    return 'failed';
  }

  async #read(key: string): Promise<string> {
    const { sdk, client } = await loadS3();
    const object = await client.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
    return object.Body!.transformToString();
  }

  async #delete(key: string, deadline: number) {
    const { sdk, client } = await loadS3();
    return sendWithPartialRetries(
      [key],
      async () => (await client.send(new sdk.DeleteObjectCommand({ Bucket: this.options.bucket, Key: key })), []), // a thrown error is retried
      this.#retry,
      deadline,
    );
  }
}
