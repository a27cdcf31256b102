// Replays the records an S3 on-failure destination keeps: Lambda writes one object per batch it
// gave up on, holding the failure metadata and, as `payload`, the whole invocation event as a
// JSON string (Lambda guide, "Capturing discarded batches for an Amazon MSK event source").
// An object is replayed whole or left whole: it is deleted only once Kafka acknowledged every
// one of its records, and left as it is otherwise, so nothing in it can be lost.
import type { ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import type { CompressionTypes, Producer } from 'kafkajs';
import { ON_FAILURE_PREFIX } from '../contract/index.js';
import { loadS3 } from '../runtime/aws-clients.js';
import { replayableRecord, type ReplayableRecord } from '../runtime/envelope.js';
import { KafkaConsumersError, describeError } from '../contract/errors.js';
import { MalformedOnFailureObjectError } from './errors.js';
import { decodeEvent, recordAt } from '../runtime/event.js';
import { decodeField } from '../runtime/record.js';
import { sendWithPartialRetries, transientAwsRetry, type RetryPolicy } from '../runtime/retry.js';
import { notAllowed, produceByPartition } from './produce.js';
import type { ReplaySummary } from './replayer.js';
import type { ReplaySettings } from './request.js';
import { countOnFailureObject, emptyContents } from './dry-run-report.js';

/**
 * The records of an S3 on-failure object, partition by partition in the event's order, with their
 * replay counts read from their own `x-dlq-replay-count` headers.
 * @throws MalformedOnFailureObjectError naming the first thing that is wrong
 */
export function parseOnFailureObject(body: string): ReplayableRecord[] {
  const payload = parseJson(body, 'the object')?.payload;
  if (typeof payload !== 'string')
    throw new MalformedOnFailureObjectError(
      '"payload" must be the invocation event as a JSON string, as Lambda writes it to an S3 on-failure destination',
    );
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
      try {
        decodeField(record, 'key');
        decodeField(record, 'value');
        // Header bytes as Lambda writes them, Java signed bytes (-128..127), or 0..255 (the local emulator's).
        records.push(replayableRecord(record));
      } catch (error) {
        if (!(error instanceof KafkaConsumersError)) throw error; // DeserializationError (base64) or InvalidEventError (headers)
        throw new MalformedOnFailureObjectError(error.message);
      }
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
    this.#retry = options.retry ?? transientAwsRetry(5);
  }

  async run(settings: ReplaySettings, deadline: number): Promise<ReplaySummary> {
    const objects: NonNullable<ReplaySummary['objects']> = { received: 0, replayed: 0, skipped: 0, failed: 0 };
    const summary: ReplaySummary = {
      received: 0,
      replayed: 0,
      skipped: 0,
      failed: 0,
      dryRun: settings.dryRun,
      objects,
      errors: [],
      ...(settings.dryRun ? { contents: emptyContents() } : {}),
    };
    try {
      for await (const key of this.#keys(settings, deadline)) {
        objects.received++;
        objects.lastKey = key;
        objects[await this.#replay(key, settings, summary, deadline)]++;
      }
    } catch (error) {
      // A listing that failed (after its retries) ends the run, not the answer: what was done is reported.
      summary.errors.push({
        reason: `listing the bucket failed: ${describeError(error).message}; the objects not reached stay in the bucket`,
      });
    }
    return summary;
  }

  /**
   * Keys under the on-failure prefix, `maxMessages` at most, listed page by page until the
   * deadline, after `startAfter` when given (a run that left objects at the head goes on past them).
   */
  async *#keys(settings: ReplaySettings, deadline: number): AsyncGenerator<string> {
    const { sdk, client } = await loadS3();
    const max = settings.maxMessages;
    let listed = 0;
    let token: string | undefined;
    do {
      const request = {
        Bucket: this.options.bucket,
        Prefix: ON_FAILURE_PREFIX,
        MaxKeys: Math.min(1_000, max - listed),
        ...(token ? { ContinuationToken: token } : settings.startAfter ? { StartAfter: settings.startAfter } : {}),
      };
      let page: ListObjectsV2CommandOutput = {} as ListObjectsV2CommandOutput;
      const [failure] = await sendWithPartialRetries(
        [request],
        async () => ((page = await client.send(new sdk.ListObjectsV2Command(request))), []),
        this.#retry,
        deadline,
      );
      if (failure) throw failure.error;
      for (const { Key } of page.Contents ?? []) {
        if (listed === max || Date.now() >= deadline) return; // no new object this close to the deadline
        listed++;
        yield Key!;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && listed < max);
  }

  /** Replays one object's records and deletes it; says which count the object goes to. */
  async #replay(
    key: string,
    settings: ReplaySettings,
    summary: ReplaySummary,
    deadline: number,
  ): Promise<'replayed' | 'skipped' | 'failed'> {
    const read = await this.#records(key);
    if (typeof read === 'string') {
      summary.errors.push({ objectKey: key, reason: `${read}; left in the bucket` });
      return 'failed';
    }
    const { records, body } = read;
    summary.received += records.length;
    if (summary.contents) countOnFailureObject(summary.contents, body, records);
    const { topic } = settings.filter;
    if (topic && records.some((r) => r.record.topic !== topic)) {
      summary.skipped += records.length;
      return 'skipped';
    }
    const spent = records.find((r) => r.replayCount >= this.options.replayLimit);
    if (spent) {
      summary.skipped += records.length;
      const { topic: at, partition, offset } = spent.record;
      summary.errors.push({
        objectKey: key,
        topic: at,
        partition,
        offset,
        reason: `a record replayed ${spent.replayCount} times already (limit ${this.options.replayLimit}); its object is replayed whole or not at all, so it stays in the bucket`,
      });
      return 'skipped';
    }
    // Checked for every record: whoever can write under aws/lambda/ names the topics.
    const refused = records.map((r) => ({ r, reason: notAllowed(r, settings) })).find((x) => x.reason);
    if (refused) {
      summary.failed += records.length;
      const { topic: at, partition, offset } = refused.r.record;
      summary.errors.push({
        objectKey: key,
        topic: at,
        partition,
        offset,
        reason: `${refused.reason}; its object is replayed whole or not at all, so it stays in the bucket`,
      });
      return 'failed';
    }
    if (settings.dryRun) {
      summary.replayed += records.length;
      return 'replayed';
    }
    let failures;
    try {
      failures = await produceByPartition(await this.options.producer(), records, (r) => r, settings, this.options.compression);
    } catch (error) {
      failures = [{ items: records, error }]; // no producer
    }
    if (failures.length > 0) {
      summary.failed += records.length;
      summary.errors.push({
        objectKey: key,
        reason: `produce failed, left in the bucket (records of it that were written will be replayed again with it): ${failures.map((f) => describeError(f.error).message).join('; ')}`,
      });
      return 'failed';
    }
    summary.replayed += records.length;
    const [notDeleted] = await this.#delete(key, deadline);
    if (!notDeleted) return 'replayed';
    summary.errors.push({
      objectKey: key,
      reason: `replayed, but not deleted from the bucket (it may be replayed again): ${describeError(notDeleted.error).message}`,
    });
    return 'failed';
  }

  /** The object's records and its text (a dry run counts both), or why there are none to replay. */
  async #records(key: string): Promise<{ records: ReplayableRecord[]; body: string } | string> {
    let body: string;
    try {
      const { sdk, client } = await loadS3();
      const object = await client.send(new sdk.GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      body = await object.Body!.transformToString();
    } catch (error) {
      return `could not be read from S3: ${describeError(error).message}`;
    }
    try {
      return { records: parseOnFailureObject(body), body };
    } catch (error) {
      return `${error instanceof MalformedOnFailureObjectError ? 'malformed on-failure object: ' : ''}${describeError(error).message}`;
    }
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
