import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DecodedEvent } from './event.js';
import type { KafkaRecord } from './record.js';
import { buildEnvelope, type DeadLetterEnvelope, type DeadLetterTrace } from './envelope.js';
import { DeadLetterWriter, type DeadLetterTransport } from './dead-letter-writer.js';
import { mappingConsumerGroupId } from './consumer-group.js';
import type { OutcomeLedger } from './outcome-ledger.js';
import { describeError } from '../contract/errors.js';
import { KeyParkedError } from './errors.js';

/** Dead letters detailed in an invocation's log line; the queue has them all. */
const LOGGED_DEAD_LETTERS = 20;

export interface DeadLetterSettings {
  /** @default none: a record that fails for good is redelivered instead */
  readonly queueUrl?: string;
  readonly bucket?: string;
  readonly transport?: DeadLetterTransport;
  /** The consumer groups' base id (see `mappingConsumerGroupId`). */
  readonly consumerGroupId?: string;
  readonly logRecordContents: boolean;
}

const coordinates = (r: { topic: string; partition: number; offset: number }) => ({
  topic: r.topic,
  partition: r.partition,
  offset: r.offset,
});

/**
 * One invocation's dead letters: each record that failed for good becomes an envelope, sent at
 * once (the writer is created on the first, so a batch that succeeds never touches SQS), and at
 * the end of the invocation flushed by the deadline. Only what SQS accepted counts and is logged
 * as dead-lettered; a record whose dead letter could not be written goes back to the ledger for
 * redelivery.
 */
export class DeadLetters {
  readonly #envelopes: DeadLetterEnvelope[] = [];
  #writer: DeadLetterWriter | undefined;

  constructor(
    readonly settings: DeadLetterSettings,
    readonly event: DecodedEvent,
    readonly context: Context,
    readonly ledger: OutcomeLedger,
    readonly logger: Logger,
    /** Epoch ms by which every dead letter must be in SQS. */
    readonly deadline: number,
  ) {}

  /**
   * A record that failed for good; with `parked`, its key is parked behind it (park-key); with `trace`
   * (tracing on), its trace contexts.
   */
  add(
    record: KafkaRecord<unknown, unknown>,
    error: unknown,
    attempts: number,
    firstFailureAt: number,
    parked?: { epoch: number },
    trace?: DeadLetterTrace,
  ): void {
    const envelope = this.#envelope(record, error, attempts, firstFailureAt, parked, trace);
    this.#envelopes.push(envelope);
    if (this.settings.queueUrl) this.#writerFor(this.settings.queueUrl).add(envelope);
  }

  /**
   * A record not run because its key is parked behind `head` (park-key): its envelope goes to the
   * bucket as `objectKey`, at once. Rejects when S3 could not take it (the record is then redelivered).
   */
  park(record: KafkaRecord<unknown, unknown>, head: number, objectKey: string, trace?: DeadLetterTrace): Promise<void> {
    const now = Date.now();
    const reason = new KeyParkedError(
      `Not run: its key is parked behind offset ${head} of ${record.partitionKey} (failureMode 'park-key').`,
    );
    return this.#writerFor(this.settings.queueUrl ?? '').park(this.#envelope(record, reason, 0, now, undefined, trace), objectKey);
  }

  #envelope(
    record: KafkaRecord<unknown, unknown>,
    error: unknown,
    attempts: number,
    firstFailureAt: number,
    parked?: { epoch: number },
    trace?: DeadLetterTrace,
  ) {
    const { consumerGroupId } = this.settings;
    return buildEnvelope(record, {
      error,
      attempts,
      firstFailureAt,
      lastFailureAt: Date.now(),
      source: {
        functionName: this.context.functionName,
        requestId: this.context.awsRequestId,
        eventSource: this.event.eventSource,
        ...(this.event.eventSourceArn ? { eventSourceArn: this.event.eventSourceArn } : {}),
        ...(this.event.bootstrapServers ? { bootstrapServers: this.event.bootstrapServers } : {}),
        ...(consumerGroupId ? { consumerGroup: mappingConsumerGroupId(consumerGroupId, record.topic) } : {}),
      },
      ...(parked ? { parked } : {}),
      ...(trace ? { trace } : {}),
    });
  }

  #writerFor(queueUrl: string): DeadLetterWriter {
    const { bucket, transport } = this.settings;
    return (this.#writer ??= new DeadLetterWriter({
      queueUrl,
      deadline: this.deadline,
      ...(bucket ? { bucket } : {}),
      ...(transport ? { transport } : {}),
    }));
  }

  /** Waits for every dead letter; records whose dead letter is not in SQS are to be redelivered. */
  async flush(): Promise<void> {
    if (this.#envelopes.length === 0) return;
    if (!this.settings.queueUrl) {
      for (const e of this.#envelopes) this.#undeliverable(e);
      this.logger.error(
        `DLQ_URL is not set, so ${this.#envelopes.length} records that failed for good could not be dead-lettered; their partitions will be redelivered from them. Set DLQ_URL (the CDK construct does).`,
        {
          records: this.#envelopes.slice(0, LOGGED_DEAD_LETTERS).map((e) => coordinates(e.record)),
        },
      );
      return;
    }
    const { unsent } = await this.#writer!.flush();
    const failed = new Set<DeadLetterEnvelope>();
    for (const { envelope, error } of unsent) {
      failed.add(envelope);
      this.#undeliverable(envelope);
      // SQS's and S3's errors name the problem, never the body.
      this.logger.error('dead letter could not be written; the record will be redelivered', {
        ...coordinates(envelope.record),
        error: describeError(error).message,
      });
    }
    const written = failed.size === 0 ? this.#envelopes : this.#envelopes.filter((e) => !failed.has(e));
    for (const e of written) this.ledger.topicStats(e.record.topic).deadLettered++;
    this.#log(written);
  }

  #undeliverable(envelope: DeadLetterEnvelope): void {
    const { topic, partition, offset } = envelope.record;
    this.ledger.topicStats(topic).deadLetterErrors++;
    this.ledger.redeliverFrom(`${topic}-${partition}`, offset);
  }

  // One line per invocation, not per record: the queue holds every dead letter whole, and a
  // log line per record would cost more than the record in a batch that fails widely.
  #log(written: DeadLetterEnvelope[]): void {
    if (written.length === 0) return;
    const { logRecordContents } = this.settings;
    this.logger.warn(`${written.length} records failed for good and were dead-lettered`, {
      deadLettered: written.length,
      records: written.slice(0, LOGGED_DEAD_LETTERS).map((e) => ({
        ...coordinates(e.record),
        attempts: e.attempts,
        // An error message may quote the record (user code's, a library's): only with logRecordContents.
        ...(logRecordContents
          ? { error: { name: e.error.type, message: e.error.message }, key: e.record.key, value: e.record.value }
          : { error: { name: e.error.type } }),
      })),
      ...(written.length > LOGGED_DEAD_LETTERS ? { recordsNotListed: written.length - LOGGED_DEAD_LETTERS } : {}),
    });
  }
}
