// Where the event source mapping emulator sends the batches it gives up on, in the shapes Lambda
// sends them to each kind of on-failure destination. One function builds the metadata record
// every destination gets (`onFailureRecord`); the S3 object and the failure-topic message only
// add to it.
import { createHash, randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Kafka } from 'kafkajs';
import { buildKafkaEvent, type BrokerRecord, type EventSource } from './lambda-event.js';
import type { KafkaEvent } from '../../src/runtime/event.js';
import { connectProducer } from '../../src/kafka/kafka-connection.js';
import { KAFKA_DESTINATION_PREFIX } from '../../src/mapping/mapping-settings.js';
import { ON_FAILURE_PREFIX } from '../../src/contract/index.js';

/**
 * Why Lambda gave up on records. The Lambda guide names RetryAttemptsExhausted and
 * MaximumPayloadSizeExceeded ("Capturing discarded batches for an Amazon MSK event source"); it
 * names none for records past MaximumRecordAgeInSeconds, for which this uses MaximumRecordAgeExceeded.
 * The Kafka-destination page's example says "RetriesExhausted"; every destination here gets the
 * MSK page's RetryAttemptsExhausted, one name for one condition.
 */
export type FailureCondition = 'RetryAttemptsExhausted' | 'MaximumRecordAgeExceeded' | 'MaximumPayloadSizeExceeded';

/** A batch the mapping gave up on, with what the mapping knows of it: every destination's record is built from this. */
export interface DiscardedBatch {
  /** In the order they were delivered (offset order within each partition). */
  readonly records: readonly BrokerRecord[];
  readonly condition: FailureCondition;
  /** Invocations made with these records; 0 when the function was never invoked. */
  readonly approximateInvokeCount: number;
  /** The function's ARN with its qualifier (`…:function:name:$LATEST`). */
  readonly functionArn: string;
  /** The mapping's event source, as its events name it. */
  readonly source: EventSource & { readonly bootstrapServers: string };
  /** The mapping's UUID: S3 destinations file objects under it. */
  readonly mappingUuid: string;
  /** The mapping's cluster: a Kafka destination is a topic of it. */
  readonly kafka: Kafka;
  /** When the mapping gave up. */
  readonly discardedAt: Date;
}

/** A place the mapping's discarded batches go (DestinationConfig.OnFailure). */
export interface OnFailureDestination {
  /** As the mapping's `DestinationConfig.OnFailure.Destination` names it (a queue, `arn:aws:s3:::bucket`, `kafka://topic`). */
  readonly target: string;
  /** Resolves once the destination holds the batch; rejects when it could not be written. */
  send(batch: DiscardedBatch): Promise<void>;
}

/**
 * The record an SQS or SNS destination gets: metadata only (Lambda guide, "Capturing discarded
 * batches for an Amazon MSK event source", SNS and SQS example invocation record).
 */
export interface OnFailureRecord extends InvocationContext {
  KafkaBatchInfo: {
    batchSize: number;
    eventSourceArn?: string;
    bootstrapServers: string;
    /** Bytes of the invocation payload. */
    payloadSize: number;
    /** By `<topic>-<partition>`; offsets are strings, timestamps ISO. */
    recordsInfo: Record<
      string,
      { firstRecordOffset: string; lastRecordOffset: string; firstRecordTimestamp: string; lastRecordTimestamp: string }
    >;
  };
}

/** The object an S3 destination gets: the metadata record and the whole invocation event, as an escaped JSON string. */
export interface S3OnFailureRecord extends OnFailureRecord {
  payload: string;
}

/**
 * The value of the message a Kafka-topic destination gets for each record (Lambda guide, "Using a
 * Kafka topic as an on-failure destination", Record format): the failure metadata for a batch of
 * one, and as `payload` the invocation event holding that record (a JSON object, not a string).
 */
export interface KafkaOnFailureRecord extends InvocationContext {
  KafkaBatchInfo: {
    batchSize: 1;
    eventSourceArn?: string;
    bootstrapServers: string;
    payloadSize: number;
    recordInfo: { offset: string; timestamp: string };
  };
  payload: KafkaEvent;
}

interface InvocationContext {
  requestContext: { requestId: string; functionArn: string; condition: FailureCondition; approximateInvokeCount: number };
  /** null when the function was never invoked (MaximumPayloadSizeExceeded, or records already too old). */
  responseContext: { statusCode: number; executedVersion: string; functionError: string } | null;
  version: '1.0';
  timestamp: string;
}

const isoTimestamp = (r: BrokerRecord) => new Date(r.timestamp ?? 0).toISOString();

function invocationContext(batch: DiscardedBatch): InvocationContext {
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: batch.functionArn,
      condition: batch.condition,
      approximateInvokeCount: batch.approximateInvokeCount,
    },
    // A thrown error and a time-out both reach the destination as the token "Unhandled".
    responseContext:
      batch.approximateInvokeCount === 0 ? null : { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: batch.discardedAt.toISOString(),
  };
}

/** The metadata record of a discarded batch, as an SQS or SNS destination gets it. */
export function onFailureRecord(batch: DiscardedBatch): OnFailureRecord {
  const recordsInfo: OnFailureRecord['KafkaBatchInfo']['recordsInfo'] = {};
  for (const r of batch.records) {
    // Stryker disable StringLiteral: the last offset and timestamp are set just below, for every record
    const info = (recordsInfo[`${r.topic}-${r.partition}`] ??= {
      firstRecordOffset: String(r.offset),
      lastRecordOffset: '',
      firstRecordTimestamp: isoTimestamp(r),
      lastRecordTimestamp: '',
    });
    // Stryker restore StringLiteral
    info.lastRecordOffset = String(r.offset);
    info.lastRecordTimestamp = isoTimestamp(r);
  }
  const event = buildKafkaEvent(batch.records, batch.source);
  return {
    ...invocationContext(batch),
    KafkaBatchInfo: {
      batchSize: batch.records.length,
      ...(event.eventSourceArn ? { eventSourceArn: event.eventSourceArn } : {}),
      bootstrapServers: batch.source.bootstrapServers,
      payloadSize: Buffer.byteLength(JSON.stringify(event)),
      recordsInfo,
    },
  };
}

/** The object an S3 destination gets for a discarded batch. */
export function s3OnFailureRecord(batch: DiscardedBatch): S3OnFailureRecord {
  return { ...onFailureRecord(batch), payload: JSON.stringify(buildKafkaEvent(batch.records, batch.source)) };
}

/** The messages a Kafka-topic destination gets for a discarded batch: one per record, keyed by the record's key. */
export function kafkaOnFailureMessages(batch: DiscardedBatch): Array<{ key: Buffer | string | null; value: KafkaOnFailureRecord }> {
  const context = invocationContext(batch);
  return batch.records.map((r) => {
    const payload = buildKafkaEvent([r], batch.source);
    return {
      key: r.key ?? null,
      value: {
        ...context,
        KafkaBatchInfo: {
          batchSize: 1,
          ...(payload.eventSourceArn ? { eventSourceArn: payload.eventSourceArn } : {}),
          bootstrapServers: batch.source.bootstrapServers,
          payloadSize: Buffer.byteLength(JSON.stringify(payload)),
          recordInfo: { offset: String(r.offset), timestamp: isoTimestamp(r) },
        },
        payload,
      },
    };
  });
}

/**
 * Where an S3 destination files a batch's object. The Lambda guide documents the layout for
 * Kinesis and DynamoDB (`aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<Random UUID>`)
 * and none for Kafka; this puts the batch's first `<topic>-<partition>` where the shard is. The
 * random UUID keeps two batches discarded in the same second from overwriting each other.
 */
export function s3OnFailureKey(batch: DiscardedBatch): string {
  const first = batch.records[0]!;
  const iso = batch.discardedAt.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const day = iso.slice(0, 10).replaceAll('-', '/');
  const second = iso.slice(0, 19).replaceAll(':', '.');
  return `${ON_FAILURE_PREFIX}${batch.mappingUuid}/${first.topic}-${first.partition}/${day}/${second}-${randomUUID()}`;
}

/**
 * A UUID that stays the same for a consumer group, as a mapping's UUID outlives restarts of its
 * pollers (a name-based UUID: SHA-1 of the group id, version 5 layout).
 */
export function mappingUuidOf(groupId: string): string {
  const h = createHash('sha1').update(groupId).digest('hex');
  const variant = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** An SQS queue destination (`sources.SqsDlq`): one message per discarded batch, metadata only. */
export function sqsOnFailureDestination(sqs: SQSClient, queueUrl: string): OnFailureDestination {
  return {
    target: queueUrl,
    send: async (batch) =>
      void (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(onFailureRecord(batch)) }))),
  };
}

/** An S3 bucket destination (`sources.S3OnFailureDestination`): one object per discarded batch, the records kept in `payload`. */
export function s3OnFailureDestination(s3: S3Client, bucket: string): OnFailureDestination {
  return {
    target: `arn:aws:s3:::${bucket}`,
    send: async (batch) =>
      void (await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: s3OnFailureKey(batch),
          Body: JSON.stringify(s3OnFailureRecord(batch)),
          ContentType: 'application/json',
        }),
      )),
  };
}

export interface KafkaOnFailureDestinationOptions {
  /**
   * Where the producer's settings are read (`KAFKA_IDEMPOTENT_PRODUCER`: the embedded broker
   * cannot serve an idempotent producer, `npm run services` prints `false` for it).
   * @default process.env
   */
  readonly environment?: NodeJS.ProcessEnv;
}

/**
 * A Kafka-topic destination (`sources.KafkaDlq`, `kafka://topic`): a topic of the mapping's own
 * cluster, which must exist (the producer creates none). Each discarded record becomes one
 * message with the record's key, so that a keyed record lands where its key does (Lambda guide:
 * "Lambda uses the same partition key from the original record"; no key: the default partitioner spreads them).
 */
export function kafkaOnFailureDestination(topic: string, options: KafkaOnFailureDestinationOptions = {}): OnFailureDestination {
  return {
    target: `${KAFKA_DESTINATION_PREFIX}${topic}`,
    send: async (batch) => {
      // Discards are rare: a producer per batch keeps the destination free of a lifecycle of its own.
      const producer = await connectProducer(batch.kafka, options.environment);
      try {
        const messages = kafkaOnFailureMessages(batch).map(({ key, value }) => ({ key, value: JSON.stringify(value) }));
        await producer.send({ topic, acks: -1, messages });
      } finally {
        await producer.disconnect();
      }
    },
  };
}
