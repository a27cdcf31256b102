import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { CompressionTypes, Message as KafkaMessage, Producer } from 'kafkajs';
import { loadS3, loadSqs } from '../runtime/aws-clients.js';
import { parseDeadLetter, type DeadLetterEnvelope } from '../runtime/envelope.js';
import { BatchEntryError, MalformedDeadLetterError } from '../runtime/errors.js';
import { notAllowed, produceByPartition, type ProduceFailure } from './produce.js';
import { sendWithPartialRetries, transientAwsRetry, type RetryPolicy } from '../runtime/retry.js';
import { describeError } from '../contract/errors.js';
import type { ReplaySettings } from './request.js';
import { leaveInQueue, type Left, type StoredObject } from './leftovers.js';
import { countDeadLetter, emptyContents } from './dry-run-report.js';
import type { DlqContents } from '../contract/dlq-contents.js';
import { ENV } from '../contract/index.js';
import { releaseParkedKey, type ReleaseOptions } from './parked-key-release.js';
import { ParkedKeyReleaseError } from './errors.js';
import type { ReplayTracing } from './trace-links.js';

/** What a replay run did. From the queue, one dead letter is one record; from S3, the counts are records and `objects` counts the objects. */
export interface ReplaySummary {
  received: number;
  /** Produced and acknowledged (in a dry run: would have been). */
  replayed: number;
  /** Left in the queue (or bucket) on purpose: at the replay limit, or not matching the filter. */
  skipped: number;
  /** Left in the queue (or bucket) because something went wrong: see `errors`. */
  failed: number;
  dryRun: boolean;
  /**
   * Source `s3` only: the on-failure objects read, deleted after their records were replayed, left
   * on purpose, left after an error; and the last key read, to give as `startAfter` to go on past them.
   */
  objects?: { received: number; replayed: number; skipped: number; failed: number; lastKey?: string };
  errors: ReplayError[];
  /** Dry runs only: what the run read, by topic, error type (from S3: Lambda's condition) and age. */
  contents?: DlqContents;
  /**
   * Parked keys (failureMode 'park-key'): the keys released, and the records produced to release them,
   * dead letters and parked records (also counted in `replayed`); in a dry run, the records that would be.
   */
  parked?: { keysReleased: number; records: number };
}

/** Something a run left behind, and why: a queue message (`messageId`) or an S3 object (`objectKey`). */
export interface ReplayError {
  messageId?: string;
  objectKey?: string;
  reason: string;
  topic?: string;
  partition?: number;
  offset?: number;
}

export interface ReplayerOptions {
  readonly queueUrl: string;
  /** Connected on first use; never in a dry run. */
  readonly producer: () => Promise<Producer>;
  /** Dead letters replayed this many times already stay in the queue. */
  readonly replayLimit: number;
  /** The codec record batches are produced with (`KAFKA_COMPRESSION`). @default none */
  readonly compression?: CompressionTypes;
  /** ReceiveMessage loops in parallel. @default {@link DEFAULT_RECEIVERS} */
  readonly receivers?: number;
  /** Retries of ReceiveMessage calls and DeleteMessageBatch entries. @default 5 attempts, 50 ms to 1 s */
  readonly retry?: RetryPolicy;
  /** The parked-key table and the bucket of parked records, to release parked keys. @default none: parked dead letters stay in the queue */
  readonly parking?: Pick<ReleaseOptions, 'store' | 'objects' | 'committed'>;
  /** The run's tracing (trace-links.ts): a send span per copy, in its headers. @default none (no SDK registered) */
  readonly tracing?: ReplayTracing;
}

interface Candidate {
  readonly message: SqsMessage;
  readonly envelope: DeadLetterEnvelope;
  /** The S3 object a pointer message named, as read. */
  readonly object?: StoredObject;
}

/** Dead letters received (10 at a time) before a round produces them: bounds memory (1 MiB bodies at most) per receiver. */
export const ROUND_MESSAGES = 50;
/** ReceiveMessage loops in parallel, each receiving and replaying rounds of {@link ROUND_MESSAGES}. */
export const DEFAULT_RECEIVERS = 4;

/**
 * Moves dead letters from SQS back onto Kafka. A message is deleted only after the brokers
 * acknowledged its record (acks from all in-sync replicas), so a crash in between can
 * duplicate a record but never lose one.
 */
export class DlqReplayer {
  readonly #retry: RetryPolicy;

  constructor(private readonly options: ReplayerOptions) {
    this.#retry = options.retry ?? transientAwsRetry(5);
  }

  async run(settings: ReplaySettings, deadline: number): Promise<ReplaySummary> {
    const summary: ReplaySummary = {
      received: 0,
      replayed: 0,
      skipped: 0,
      failed: 0,
      dryRun: settings.dryRun,
      errors: [],
      ...(settings.dryRun ? { contents: emptyContents() } : {}),
    };
    const left: Left[] = [];
    let reserved = 0;
    const receiver = async () => {
      let drained = false;
      while (!drained && reserved < settings.maxMessages && Date.now() < deadline) {
        // Several receives make one round, so that a round's produce calls (one per
        // topic-partition) each carry several records rather than one.
        const round: SqsMessage[] = [];
        let failure: unknown;
        while (round.length < ROUND_MESSAGES && reserved < settings.maxMessages && Date.now() < deadline) {
          const want = Math.min(10, settings.maxMessages - reserved);
          reserved += want;
          let messages: SqsMessage[] = [];
          try {
            messages = await this.#receive(want, deadline);
          } catch (error) {
            failure = error;
            break;
          } finally {
            reserved -= want - messages.length;
          }
          round.push(...messages);
          drained = messages.length === 0;
          if (messages.length < want) break; // no more waiting now: replay what came
        }
        summary.received += round.length;
        await this.#handle(round, settings, summary, left, deadline); // nothing to do for an empty round
        if (failure !== undefined) throw failure; // after what it received is replayed or left
      }
    };
    // Every receiver settles before the run leaves what it leaves and answers: one that gave up
    // (SQS throttling past the retries, say) stops alone, and says so in the summary.
    const receivers = await Promise.allSettled(Array.from({ length: this.options.receivers ?? DEFAULT_RECEIVERS }, receiver));
    for (const r of receivers) {
      if (r.status === 'rejected')
        summary.errors.push({
          reason: `a receiver stopped: ${describeError(r.reason).message}; what it had not received stays in the queue`,
        });
    }
    await leaveInQueue(this.options.queueUrl, left, summary);
    return summary;
  }

  /** ReceiveMessage, retried with backoff while the error is transient (throttling, 5xx, network). */
  async #receive(max: number, deadline: number): Promise<SqsMessage[]> {
    let messages: SqsMessage[] = [];
    const [failure] = await sendWithPartialRetries(
      [max],
      async () => ((messages = await this.#receiveOnce(max, deadline)), []),
      this.#retry,
      deadline,
    );
    if (failure) throw failure.error;
    return messages;
  }

  async #receiveOnce(max: number, deadline: number): Promise<SqsMessage[]> {
    const { sdk, client } = await loadSqs();
    const secondsLeft = Math.max(1, Math.ceil((deadline - Date.now()) / 1_000));
    const out = await client.send(
      new sdk.ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: Math.min(1, secondsLeft),
        VisibilityTimeout: secondsLeft + 30, // not seen again by this run's other receivers
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    return out.Messages ?? [];
  }

  async #handle(messages: SqsMessage[], settings: ReplaySettings, summary: ReplaySummary, left: Left[], deadline: number) {
    const candidates: Candidate[] = [];
    const parked: Candidate[] = [];
    const leave = (c: { message: SqsMessage; object?: StoredObject }) =>
      left.push({ message: c.message, ...(c.object ? { object: c.object } : {}), renewable: true });
    for (const message of messages) {
      let candidate: Candidate;
      try {
        candidate = await this.#candidateOf(message);
      } catch (error) {
        summary.failed++;
        // A pointer's envelope S3 could not give is not a malformed dead letter: it may be read next time.
        const reason =
          error instanceof MalformedDeadLetterError
            ? `malformed dead letter: ${error.message}`
            : `could not read the envelope its pointer names from S3: ${describeError(error).message}`;
        summary.errors.push({ messageId: message.MessageId ?? '?', reason });
        leave({ message });
        continue;
      }
      const { envelope } = candidate,
        { filter } = settings;
      if (summary.contents) countDeadLetter(summary.contents, message, envelope);
      const refused = notAllowed(envelope, settings);
      if ((filter.topic && envelope.record.topic !== filter.topic) || (filter.errorType && envelope.error.type !== filter.errorType)) {
        summary.skipped++;
        leave(candidate);
      } else if (envelope.replayCount >= this.options.replayLimit) {
        summary.skipped++;
        summary.errors.push({
          ...this.#where(message, envelope),
          reason: `replayed ${envelope.replayCount} times already (limit ${this.options.replayLimit}); left in the queue`,
        });
        leave(candidate);
      } else if (refused) {
        summary.failed++;
        summary.errors.push({ ...this.#where(message, envelope), reason: `${refused}; left in the queue` });
        leave(candidate);
      } else {
        (envelope.parked ? parked : candidates).push(candidate);
      }
    }
    for (const c of parked) await this.#release(c, settings, summary, leave, deadline);
    if (candidates.length === 0) return;
    if (settings.dryRun) {
      summary.replayed += candidates.length;
      candidates.forEach(leave);
      return;
    }
    let failures: Array<ProduceFailure<Candidate>>;
    try {
      const producer = await this.options.producer();
      const { compression, tracing } = this.options;
      failures = await produceByPartition(producer, candidates, (c) => c.envelope, settings, compression, tracing);
    } catch (error) {
      failures = [{ items: candidates, error }]; // no producer
    }
    const unwritten = new Set<Candidate>();
    for (const { items, error } of failures) {
      for (const c of items) {
        unwritten.add(c);
        summary.failed++;
        summary.errors.push({
          ...this.#where(c.message, c.envelope),
          reason: `produce failed, left in the queue: ${describeError(error).message}`,
        });
        leave(c);
      }
    }
    const produced = candidates.filter((c) => !unwritten.has(c));
    summary.replayed += produced.length;
    for (const { entry, error } of await this.#delete(produced, deadline)) {
      summary.errors.push({
        ...this.#where(entry.message, entry.envelope),
        reason: `replayed, but not deleted from the queue (it may be replayed again): ${describeError(error).message}`,
      });
      left.push({ message: entry.message, renewable: false });
    }
  }

  /** A dead letter a key is parked behind: produced with the key's parked records, the key released, the message deleted. */
  async #release(c: Candidate, settings: ReplaySettings, summary: ReplaySummary, leave: (c: Candidate) => void, deadline: number) {
    const counts = (summary.parked ??= { keysReleased: 0, records: 0 });
    const { parking } = this.options;
    try {
      if (!parking)
        throw new ParkedKeyReleaseError(
          `its key is parked, and the replay has no ${ENV.parkedKeysTable} and ${ENV.deadLetterBucket} to release it with: set them (DeadLetterReplay does for a consumer with failureMode 'park-key')`,
        );
      const produce = async (topic: string, partition: number, messages: KafkaMessage[]) => {
        const producer = await this.options.producer();
        const acks = await producer.sendBatch({ acks: -1, compression: this.options.compression, topicMessages: [{ topic, messages }] });
        const first = acks.find((a) => a.topicName === topic && a.partition === partition)?.baseOffset;
        if (first === undefined)
          throw new ParkedKeyReleaseError(`Kafka acknowledged the release copies without their offset in ${topic}-${partition}`);
        return Number(first);
      };
      const { replayLimit, tracing } = this.options;
      const result = await releaseParkedKey(c.envelope, { ...parking, produce, replayLimit, settings, tracing }, deadline);
      summary.replayed += result.records;
      counts.records += result.records;
      if (result.released) counts.keysReleased++;
      if (!result.done) {
        // The consumer is not past the copies yet: the next run goes on from where this one got.
        leave(c);
        return;
      }
    } catch (error) {
      summary.failed++;
      summary.errors.push({
        ...this.#where(c.message, c.envelope),
        reason: `parked key not released, left in the queue: ${describeError(error).message}`,
      });
      leave(c);
      return;
    }
    if (settings.dryRun) leave(c);
    else
      for (const { entry, error } of await this.#delete([c], deadline))
        summary.errors.push({
          ...this.#where(entry.message, entry.envelope),
          reason: `released, but not deleted from the queue: ${describeError(error).message}`,
        });
  }

  async #candidateOf(message: SqsMessage): Promise<Candidate> {
    const parsed = parseDeadLetter(message.Body ?? '');
    if (parsed.kind === 'kafka-dead-letter') return { message, envelope: parsed };
    const { bucket, key } = parsed.s3;
    const { sdk, client } = await loadS3();
    const object = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = await object.Body!.transformToString();
    const full = parseDeadLetter(body);
    if (full.kind !== 'kafka-dead-letter') throw new MalformedDeadLetterError(`s3://${bucket}/${key} holds another pointer`);
    return { message, envelope: full, object: { bucket, key, body } };
  }

  async #delete(candidates: Candidate[], deadline: number) {
    // DeleteMessageBatch takes at most 10 entries.
    // Stryker disable next-line ArithmeticOperator: more chunks would be empty ones, which send nothing (equivalent)
    const chunks = Array.from({ length: Math.ceil(candidates.length / 10) }, (_, i) => candidates.slice(i * 10, i * 10 + 10));
    return (await Promise.all(chunks.map((chunk) => this.#deleteBatch(chunk, deadline)))).flat();
  }

  async #deleteBatch(candidates: Candidate[], deadline: number) {
    const { sdk, client } = await loadSqs();
    return sendWithPartialRetries(
      candidates,
      async (batch) => {
        const out = await client.send(
          new sdk.DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: batch.map((c, i) => ({ Id: String(i), ReceiptHandle: c.message.ReceiptHandle! })),
          }),
        );
        return (out.Failed ?? []).map((f) => ({
          index: Number(f.Id),
          error: new BatchEntryError(f.Code ?? 'Unknown', f.Message, f.SenderFault ?? false),
        }));
      },
      this.#retry,
      deadline,
    );
  }

  #where(message: SqsMessage, envelope: DeadLetterEnvelope) {
    const { topic, partition, offset } = envelope.record;
    return { messageId: message.MessageId ?? '?', topic, partition, offset };
  }
}
