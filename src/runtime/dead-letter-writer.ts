import { channel } from 'node:diagnostics_channel';
import { loadS3, loadSqs } from './aws-clients.js';
import type { DeadLetterEnvelope, DeadLetterPointer } from './envelope.js';
import { sendWithPartialRetries, transientAwsRetry, type RetryPolicy } from './retry.js';
import { BatchEntryError } from './errors.js';
import { ConfigurationError } from '../contract/errors.js';
import { CHANNELS, DEAD_LETTER_PREFIX, ENV, RENEWAL_ATTRIBUTES_BYTES } from '../contract/index.js';

/** SQS's limit for one message and for one SendMessageBatch call. */
export const SQS_MAX_BYTES = 1_048_576;
const SQS_MAX_BATCH_ENTRIES = 10;

/**
 * Every envelope SQS accepted is published here (a no-op without subscribers), so local
 * tools can show and count dead letters without reading the queue.
 */
export const deadLetterSent = channel(CHANNELS.deadLetterSent);

export interface OutgoingMessage {
  readonly Id: string;
  readonly MessageBody: string;
  readonly MessageAttributes: Record<string, { DataType: 'String'; StringValue: string }>;
}

export interface FailedEntry {
  readonly Id: string;
  readonly SenderFault: boolean;
  readonly Code: string;
  readonly Message?: string;
}

/** The two calls the writer makes. The default goes to SQS and S3 through the AWS SDK. */
export interface DeadLetterTransport {
  sendMessageBatch(queueUrl: string, entries: OutgoingMessage[], signal: AbortSignal): Promise<{ failed: FailedEntry[] }>;
  putObject(bucket: string, key: string, body: string, signal: AbortSignal): Promise<void>;
}

export const awsDeadLetterTransport: DeadLetterTransport = {
  async sendMessageBatch(queueUrl, entries, signal) {
    const { sdk, client } = await loadSqs();
    const out = await client.send(new sdk.SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), { abortSignal: signal });
    return {
      failed: (out.Failed ?? []).map((f) => ({
        Id: f.Id!,
        SenderFault: f.SenderFault ?? false,
        Code: f.Code ?? 'Unknown',
        ...(f.Message ? { Message: f.Message } : {}),
      })),
    };
  },
  async putObject(bucket, key, body, signal) {
    const { sdk, client } = await loadS3();
    await client.send(new sdk.PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }), {
      abortSignal: signal,
    });
  },
};

export interface DeadLetterWriterOptions {
  /** The SQS dead-letter queue. */
  readonly queueUrl: string;
  /** Where envelopes too large for SQS go. @default none: such a record is reported for redelivery */
  readonly bucket?: string;
  /** @default the AWS SDK */
  readonly transport?: DeadLetterTransport;
  /** Retries of throttled calls and of entries SQS reports in `Failed[]`. @default 6 attempts, 50 ms to 1 s */
  readonly retry?: RetryPolicy;
  /** SendMessageBatch calls in flight at once. @default 8 */
  readonly concurrency?: number;
  /**
   * Epoch ms by which every call must be done, retries included: sends started long before the
   * flush are bounded too, and a dead letter still unsent then is reported as unsent.
   * @default none
   */
  readonly deadline?: number;
}

/** A dead letter that could not be written, for good: its record must be redelivered. */
export interface UnsentDeadLetter {
  readonly envelope: DeadLetterEnvelope;
  readonly error: unknown;
}

export interface FlushResult {
  readonly sent: number;
  readonly unsent: UnsentDeadLetter[];
  /** SendMessageBatch and PutObject calls made, retries included. */
  readonly calls: number;
}

interface Entry {
  readonly envelope: DeadLetterEnvelope;
  body: string;
  readonly attributes: OutgoingMessage['MessageAttributes'];
  readonly bytes: number;
}

/**
 * Characters SQS refuses in a message body or attribute value (SendMessage, API reference: it
 * takes #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF). One of them in an error
 * message that quotes a record made a dead letter unwritable, forever.
 */
const REFUSED_BY_SQS = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;
/**
 * The ones JSON.stringify leaves as they are: it escapes the control characters and lone
 * surrogates, not U+FFFE and U+FFFF. A scan for two characters is 7 times faster than one for
 * all of them (3 ms for a 1 MiB body, as long as the JSON.stringify it follows).
 */
const REFUSED_AFTER_STRINGIFY = /[\uFFFE\uFFFF]/g;

const escape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `JSON.stringify(value)` as SQS takes it: what it refuses written as `\uXXXX` escapes. In JSON
 * text those characters stand inside strings only, so the body parses to the exact same value.
 */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(REFUSED_AFTER_STRINGIFY, escape);
}

/** An attribute value (text for people, not parsed) with what SQS refuses written as `\uXXXX`. */
function sqsSafeAttribute(text: string): string {
  return text.replace(REFUSED_BY_SQS, escape);
}

const encoder = new TextEncoder();
// Stryker disable next-line all: both branches count the same UTF-8 bytes; the test only picks the faster way for the length.
const byteLength = (text: string) => (text.length * 3 < SQS_MAX_BYTES ? Buffer.byteLength(text) : encoder.encode(text).length);

/**
 * Writes dead letters to SQS with SendMessageBatch: up to 10 entries and 1 MiB a call,
 * calls in flight concurrently while the batch is still being processed, throttles and
 * `Failed[]` entries retried with backoff, oversized envelopes offloaded to S3 with a
 * pointer in SQS. Nothing is assumed sent that SQS did not accept.
 */
export class DeadLetterWriter {
  readonly #options: Required<Omit<DeadLetterWriterOptions, 'bucket'>> & { bucket?: string };
  #batch: Entry[] = [];
  #batchBytes = 0;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #sends: Promise<void>[] = [];
  readonly #unsent: UnsentDeadLetter[] = [];
  #sent = 0;
  #calls = 0;

  constructor(options: DeadLetterWriterOptions) {
    this.#options = {
      transport: awsDeadLetterTransport,
      retry: transientAwsRetry(6),
      concurrency: 8,
      deadline: Number.POSITIVE_INFINITY,
      ...options,
    };
  }

  /** Queues a dead letter; a full batch starts sending at once. */
  add(envelope: DeadLetterEnvelope): void {
    const body = sqsSafeJson(envelope);
    const attributes = {
      topic: { DataType: 'String' as const, StringValue: sqsSafeAttribute(envelope.record.topic) },
      errorType: { DataType: 'String' as const, StringValue: sqsSafeAttribute(envelope.error.type.slice(0, 256)) || 'Error' },
    };
    // SQS counts names, data types and values in bytes (UTF-8), towards the same 1 MiB as the body.
    const attributeBytes =
      'topic'.length +
      'errorType'.length +
      12 +
      Buffer.byteLength(attributes.topic.StringValue) +
      Buffer.byteLength(attributes.errorType.StringValue);
    const entry: Entry = { envelope, body, attributes, bytes: byteLength(body) + attributeBytes };
    if (this.#batchBytes + Math.min(entry.bytes, SQS_MAX_BYTES) > SQS_MAX_BYTES) this.#dispatch();
    this.#batch.push(entry);
    this.#batchBytes += Math.min(entry.bytes, SQS_MAX_BYTES); // oversized ones become small pointers
    if (this.#batch.length === SQS_MAX_BATCH_ENTRIES) this.#dispatch();
  }

  /** Sends what is queued and waits for every send; what is not in by the deadline is in `unsent`. */
  async flush(): Promise<FlushResult> {
    this.#dispatch();
    await Promise.all(this.#sends);
    return { sent: this.#sent, unsent: [...this.#unsent], calls: this.#calls };
  }

  #dispatch(): void {
    if (this.#batch.length === 0) return;
    const entries = this.#batch;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#sends.push(this.#withSlot(() => this.#send(entries)));
  }

  async #withSlot(work: () => Promise<void>): Promise<void> {
    if (this.#inFlight >= this.#options.concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight++;
    try {
      await work();
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  async #send(entries: Entry[]): Promise<void> {
    const ready: Entry[] = [];
    for (const entry of entries) {
      if (entry.bytes + RENEWAL_ATTRIBUTES_BYTES <= SQS_MAX_BYTES) ready.push(entry);
      else
        await this.#offload(entry).then(
          () => ready.push(entry),
          (error) => this.#unsent.push({ envelope: entry.envelope, error }),
        );
    }
    const unsent = await sendWithPartialRetries(
      ready,
      async (batch) => {
        this.#calls++;
        const messages = batch.map((e, i) => ({ Id: String(i), MessageBody: e.body, MessageAttributes: e.attributes }));
        const { failed } = await this.#options.transport.sendMessageBatch(this.#options.queueUrl, messages, this.#signal());
        const failedIds = new Set(failed.map((f) => f.Id));
        this.#sent += batch.length - failedIds.size;
        if (deadLetterSent.hasSubscribers) batch.forEach((e, i) => failedIds.has(String(i)) || deadLetterSent.publish(e.envelope));
        return failed.map((f) => ({ index: Number(f.Id), error: new BatchEntryError(f.Code, f.Message, f.SenderFault) }));
      },
      this.#options.retry,
      this.#options.deadline,
    );
    for (const { entry, error } of unsent) this.#unsent.push({ envelope: entry.envelope, error });
  }

  async #offload(entry: Entry): Promise<void> {
    const { bucket } = this.#options;
    const { record } = entry.envelope;
    if (!bucket)
      throw new ConfigurationError(
        `The dead letter of ${record.topic}-${record.partition}@${record.offset} is ${entry.bytes} bytes, over SQS's ${SQS_MAX_BYTES}, and no ${ENV.deadLetterBucket} is set to hold it.`,
      );
    const key = `${DEAD_LETTER_PREFIX}${encodeURIComponent(record.topic)}/${record.partition}/${record.offset}-${Date.now()}.json`;
    await this.#put(bucket, key, entry.body);
    const pointer: DeadLetterPointer = {
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket, key },
      record: { topic: record.topic, partition: record.partition, offset: record.offset },
      error: { type: entry.envelope.error.type, message: entry.envelope.error.message.slice(0, 1_024) },
      replayCount: entry.envelope.replayCount,
    };
    entry.body = sqsSafeJson(pointer);
  }

  /**
   * Writes a parked record's envelope (park-key) to the bucket as the object `objectKey`, retried
   * like every other call, by the deadline. Resolves once S3 has it; rejects when it could not.
   */
  async park(envelope: DeadLetterEnvelope, objectKey: string): Promise<void> {
    const { bucket } = this.#options;
    if (!bucket)
      throw new ConfigurationError(
        `failureMode 'park-key' writes parked records to the dead-letter bucket, and no ${ENV.deadLetterBucket} is set: set it (the KafkaConsumer construct does).`,
      );
    await this.#put(bucket, objectKey, sqsSafeJson(envelope));
  }

  async #put(bucket: string, key: string, body: string): Promise<void> {
    const [failure] = await sendWithPartialRetries(
      [body],
      async ([text]) => {
        this.#calls++;
        await this.#options.transport.putObject(bucket, key, text!, this.#signal());
        return [];
      },
      this.#options.retry,
      this.#options.deadline,
    );
    if (failure) throw failure.error;
  }

  #signal(): AbortSignal {
    const left = this.#options.deadline - Date.now();
    // AbortSignal.timeout takes whole milliseconds only: a fraction throws a RangeError.
    return Number.isFinite(left) ? AbortSignal.timeout(Math.max(1, Math.ceil(left))) : new AbortController().signal;
  }
}
