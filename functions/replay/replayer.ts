import type { Message as SqsMessage } from '@aws-sdk/client-sqs';
import type { CompressionTypes, Message as KafkaMessage, Producer } from 'kafkajs';
import type { KafkajsHeader } from '../runtime/kafka-headers';
import { loadS3, loadSqs } from '../runtime/aws-clients';
import {
  MalformedDeadLetterError, ORIGINAL_OFFSET_HEADER, ORIGINAL_PARTITION_HEADER, REPLAY_COUNT_HEADER, parseDeadLetter, type DeadLetterEnvelope,
} from '../runtime/envelope';
import { RetryPolicy, batchEntryError, isTransientAwsError, sendWithPartialRetries } from '../runtime/retry';
import type { ReplaySettings } from './request';

export interface ReplaySummary {
  received: number;
  /** Produced and acknowledged (in a dry run: would have been). */
  replayed: number;
  /** Left in the queue on purpose: at the replay limit, or not matching the filter. */
  skipped: number;
  /** Left in the queue because something went wrong: see `errors`. */
  failed: number;
  dryRun: boolean;
  errors: Array<{ messageId: string; reason: string; topic?: string; partition?: number; offset?: number }>;
}

export interface ReplayerOptions {
  readonly queueUrl: string;
  /** Connected on first use; never in a dry run. */
  readonly producer: () => Promise<Producer>;
  /** Dead letters replayed this many times already stay in the queue. */
  readonly replayLimit: number;
  /** The codec record batches are produced with (`KAFKA_COMPRESSION`). @default none */
  readonly compression?: CompressionTypes;
  /** ReceiveMessage loops in parallel. @default 4 */
  readonly receivers?: number;
  /** Retries of DeleteMessageBatch entries. @default 5 attempts, 50 ms to 1 s */
  readonly retry?: RetryPolicy;
}

interface Candidate {
  readonly message: SqsMessage;
  readonly envelope: DeadLetterEnvelope;
}

const b64 = (text: string | null) => (text === null ? null : Buffer.from(text, 'base64'));

/**
 * Moves dead letters from SQS back onto Kafka. A message is deleted only after the brokers
 * acknowledged its record (acks from all in-sync replicas), so a crash in between can
 * duplicate a record but never lose one.
 */
export class DlqReplayer {
  readonly #retry: RetryPolicy;

  constructor(private readonly options: ReplayerOptions) {
    this.#retry = options.retry ?? new RetryPolicy({ maxAttempts: 5, baseDelayMs: 50, maxDelayMs: 1_000, isRetryable: isTransientAwsError });
  }

  async run(settings: ReplaySettings, deadline: number): Promise<ReplaySummary> {
    const summary: ReplaySummary = { received: 0, replayed: 0, skipped: 0, failed: 0, dryRun: settings.dryRun, errors: [] };
    const release: SqsMessage[] = [];
    let reserved = 0;
    const receiver = async () => {
      while (reserved < settings.maxMessages && Date.now() < deadline) {
        const want = Math.min(10, settings.maxMessages - reserved);
        reserved += want;
        const messages = await this.#receive(want, deadline);
        reserved -= want - messages.length;
        if (messages.length === 0) return; // drained
        summary.received += messages.length;
        await this.#handle(messages, settings, summary, release, deadline);
      }
    };
    await Promise.all(Array.from({ length: this.options.receivers ?? 4 }, receiver));
    await this.#makeVisible(release);
    return summary;
  }

  async #receive(max: number, deadline: number): Promise<SqsMessage[]> {
    const { sdk, client } = await loadSqs();
    const secondsLeft = Math.max(1, Math.ceil((deadline - Date.now()) / 1_000));
    const out = await client.send(new sdk.ReceiveMessageCommand({
      QueueUrl: this.options.queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: Math.min(1, secondsLeft),
      VisibilityTimeout: secondsLeft + 30, // not seen again by this run's other receivers
    }));
    return out.Messages ?? [];
  }

  async #handle(messages: SqsMessage[], settings: ReplaySettings, summary: ReplaySummary, release: SqsMessage[], deadline: number) {
    const candidates: Candidate[] = [];
    for (const message of messages) {
      let envelope: DeadLetterEnvelope;
      try {
        envelope = await this.#envelopeOf(message);
      } catch (error) {
        summary.failed++;
        summary.errors.push({ messageId: message.MessageId ?? '?', reason: `malformed dead letter: ${(error as Error).message}` });
        release.push(message);
        continue;
      }
      const { filter } = settings;
      if ((filter.topic && envelope.record.topic !== filter.topic) || (filter.errorType && envelope.error.type !== filter.errorType)) {
        summary.skipped++;
        release.push(message);
      } else if (envelope.replayCount >= this.options.replayLimit) {
        summary.skipped++;
        summary.errors.push({ ...this.#where(message, envelope), reason: `replayed ${envelope.replayCount} times already (limit ${this.options.replayLimit}); left in the queue` });
        release.push(message);
      } else {
        candidates.push({ message, envelope });
      }
    }
    if (candidates.length === 0) return;
    if (settings.dryRun) {
      summary.replayed += candidates.length;
      release.push(...candidates.map((c) => c.message));
      return;
    }
    try {
      const producer = await this.options.producer();
      await producer.sendBatch({ acks: -1, compression: this.options.compression, topicMessages: this.#topicMessages(candidates, settings.targetTopic) });
    } catch (error) {
      summary.failed += candidates.length;
      for (const c of candidates) summary.errors.push({ ...this.#where(c.message, c.envelope), reason: `produce failed, left in the queue: ${(error as Error).message}` });
      release.push(...candidates.map((c) => c.message));
      return;
    }
    summary.replayed += candidates.length;
    for (const { entry, error } of await this.#delete(candidates, deadline)) {
      summary.errors.push({ ...this.#where(entry.message, entry.envelope), reason: `replayed, but not deleted from the queue (it may be replayed again): ${(error as Error).message}` });
      release.push(entry.message);
    }
  }

  async #envelopeOf(message: SqsMessage): Promise<DeadLetterEnvelope> {
    const parsed = parseDeadLetter(message.Body ?? '');
    if (parsed.kind === 'kafka-dead-letter') return parsed;
    const { sdk, client } = await loadS3();
    const object = await client.send(new sdk.GetObjectCommand({ Bucket: parsed.s3.bucket, Key: parsed.s3.key }));
    const full = parseDeadLetter(await object.Body!.transformToString());
    if (full.kind !== 'kafka-dead-letter') throw new MalformedDeadLetterError(`s3://${parsed.s3.bucket}/${parsed.s3.key} holds another pointer`);
    return full;
  }

  #topicMessages(candidates: Candidate[], targetTopic: string | undefined) {
    const byTopic = new Map<string, KafkaMessage[]>();
    for (const { envelope } of candidates) {
      const { record } = envelope;
      const topic = targetTopic ?? record.topic;
      // In the record's order, duplicates kept (patched kafkajs, see kafka-headers.ts).
      const orderedHeaders: KafkajsHeader[] = [];
      for (const h of record.headers) {
        if (h.name === REPLAY_COUNT_HEADER || h.name === ORIGINAL_OFFSET_HEADER || h.name === ORIGINAL_PARTITION_HEADER) continue;
        orderedHeaders.push({ key: h.name, value: b64(h.value) });
      }
      orderedHeaders.push(
        { key: REPLAY_COUNT_HEADER, value: Buffer.from(String(envelope.replayCount + 1)) },
        { key: ORIGINAL_OFFSET_HEADER, value: Buffer.from(String(record.offset)) },
        { key: ORIGINAL_PARTITION_HEADER, value: Buffer.from(String(record.partition)) },
      );
      const message: KafkaMessage = { key: b64(record.key), value: b64(record.value), orderedHeaders, timestamp: String(record.timestamp) };
      if (topic === record.topic) message.partition = record.partition; // same place, same order relative to its key
      let list = byTopic.get(topic);
      if (!list) byTopic.set(topic, (list = []));
      list.push(message);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  async #delete(candidates: Candidate[], deadline: number) {
    const { sdk, client } = await loadSqs();
    return sendWithPartialRetries(
      candidates,
      async (batch) => {
        const out = await client.send(new sdk.DeleteMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: batch.map((c, i) => ({ Id: String(i), ReceiptHandle: c.message.ReceiptHandle! })),
        }));
        return (out.Failed ?? []).map((f) => ({ index: Number(f.Id), error: batchEntryError(f.Code ?? 'Unknown', f.Message, f.SenderFault ?? false) }));
      },
      this.#retry,
      deadline,
    );
  }

  // Messages this run leaves in the queue become visible again at once, not after the long timeout.
  async #makeVisible(messages: SqsMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const { sdk, client } = await loadSqs();
    for (let i = 0; i < messages.length; i += 10) {
      const batch = messages.slice(i, i + 10);
      await client
        .send(new sdk.ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }))
        .catch(() => undefined); // best effort: they become visible after the timeout anyway
    }
  }

  #where(message: SqsMessage, envelope: DeadLetterEnvelope) {
    const { topic, partition, offset } = envelope.record;
    return { messageId: message.MessageId ?? '?', topic, partition, offset };
  }
}
