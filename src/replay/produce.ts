// How dead letters become Kafka messages and are produced: the record path both sources share.
import type { CompressionTypes, Message as KafkaMessage, Producer } from 'kafkajs';
import type { KafkajsHeader } from '../kafka/kafka-headers.js';
import {
  ORIGINAL_OFFSET_HEADER,
  ORIGINAL_PARTITION_HEADER,
  ORIGINAL_TIMESTAMP_HEADER,
  ORIGINAL_TOPIC_HEADER,
  PARK_EPOCH_HEADER,
  REPLAY_COUNT_HEADER,
} from '../contract/index.js';
import type { ReplayableRecord } from '../runtime/envelope.js';
import type { ReplaySettings } from './request.js';
import type { CopySends, ReplayTracing, TraceHeaders, TracedRecord } from './trace-links.js';

const b64 = (text: string | null) => (text === null ? null : Buffer.from(text, 'base64'));

/**
 * The Kafka message that replays a dead letter: key, value and headers as they were, plus the
 * replay headers. No timestamp, so the producer stamps it now: with the original one, a mapping
 * with `maxRecordAge` would discard an old record unseen. The original timestamp, topic, offset
 * and partition go in headers (the first replay's values are kept on later replays): the
 * runtime's idempotency ledger knows a copy by them, wherever `targetTopic` put it. With
 * `parkEpoch` (the release of a parked key), the copy carries `x-dlq-park-epoch`. With `trace`
 * (tracing on), the copy's trace context headers are its send span's (trace-links.ts).
 */
export function replayMessage(envelope: ReplayableRecord, toOwnTopic: boolean, parkEpoch?: number, trace?: TraceHeaders): KafkaMessage {
  const { record } = envelope;
  // In the record's order, duplicates kept (patched kafkajs, see kafka-headers.ts).
  const orderedHeaders: KafkajsHeader[] = [];
  const has = new Set<string>();
  for (const h of record.headers) {
    // Written afresh below: the count, and the park epoch of a release (an earlier one is stale).
    if (h.name === REPLAY_COUNT_HEADER || h.name === PARK_EPOCH_HEADER || trace?.drop.has(h.name)) continue;
    orderedHeaders.push({ key: h.name, value: b64(h.value) });
    has.add(h.name);
  }
  if (trace) for (const [key, value] of trace.write) orderedHeaders.push({ key, value: Buffer.from(value) });
  orderedHeaders.push({ key: REPLAY_COUNT_HEADER, value: Buffer.from(String(envelope.replayCount + 1)) });
  if (parkEpoch !== undefined) orderedHeaders.push({ key: PARK_EPOCH_HEADER, value: Buffer.from(String(parkEpoch)) });
  // The first replay names the record as it was first produced; later replays keep that, so
  // a record replayed twice still points at its original, not at the previous copy.
  const original: Array<[string, number | string]> = [
    [ORIGINAL_TOPIC_HEADER, record.topic],
    [ORIGINAL_OFFSET_HEADER, record.offset],
    [ORIGINAL_PARTITION_HEADER, record.partition],
    [ORIGINAL_TIMESTAMP_HEADER, record.timestamp],
  ];
  for (const [name, value] of original) if (!has.has(name)) orderedHeaders.push({ key: name, value: Buffer.from(String(value)) });
  // `headers` too (grouped by name): a kafkajs without the patch ignores `orderedHeaders`, and
  // must still write every header, the replay count above all (the loop guard reads it). No
  // prototype: `__proto__`, `constructor` and `toString` are header names like any other.
  const headers: Record<string, Buffer[]> = Object.create(null) as Record<string, Buffer[]>;
  for (const h of orderedHeaders) if (h.value !== null) (headers[h.key] ??= []).push(h.value);
  const message: KafkaMessage = { key: b64(record.key), value: b64(record.value), orderedHeaders, headers };
  if (toOwnTopic) message.partition = record.partition; // same place, same order relative to its key
  return message;
}

/** The topic a record is replayed to: `targetTopic`, or its own. */
export const destinationOf = (record: ReplayableRecord, settings: ReplaySettings) => settings.targetTopic ?? record.record.topic;

/**
 * Why a record may not be replayed to its destination, or undefined when it may. Every record is
 * checked, not just `targetTopic`: whoever can write a dead letter (or an on-failure object) names
 * its topic, and the replay's credentials may reach far more topics than the stack consumes.
 */
export function notAllowed(record: ReplayableRecord, settings: ReplaySettings): string | undefined {
  const topic = destinationOf(record, settings);
  if (settings.allowedTopics.includes(topic)) return undefined;
  return `its topic ${JSON.stringify(topic)} is not one this replay may produce to (REPLAY_ALLOWED_TOPICS: ${settings.allowedTopics.join(', ')})`;
}

/** What a produce left unwritten: the items of one call that failed, and why. */
export interface ProduceFailure<T> {
  readonly items: T[];
  readonly error: unknown;
}

/**
 * Produces records with one call per topic-partition (per topic for `targetTopic`, where the
 * producer picks the partitions), all at once, in order within each. One call over several topics
 * fails whole though some of them were written: so a failure is attributed to exactly the records
 * it left unwritten, and the others are not replayed twice.
 */
export async function produceByPartition<T>(
  producer: Producer,
  items: readonly T[],
  recordOf: (item: T) => TracedRecord,
  settings: ReplaySettings,
  compression: CompressionTypes | undefined,
  tracing?: ReplayTracing,
): Promise<Array<ProduceFailure<T>>> {
  const groups = new Map<string, { topic: string; items: T[]; messages: KafkaMessage[]; sends?: CopySends }>();
  for (const item of items) {
    const replayable = recordOf(item);
    const topic = destinationOf(replayable, settings);
    const own = topic === replayable.record.topic;
    // Stryker disable next-line ArrayDeclaration: with a foreign targetTopic every such group has that one topic (equivalent)
    const id = JSON.stringify(own ? [topic, replayable.record.partition] : [topic]);
    let group = groups.get(id);
    if (!group) {
      group = { topic, items: [], messages: [] };
      if (tracing) group.sends = tracing.sends(topic, own ? replayable.record.partition : undefined);
      groups.set(id, group);
    }
    group.items.push(item);
    group.messages.push(replayMessage(replayable, own, undefined, group.sends?.headersFor(replayable)));
  }
  const calls = [...groups.values()];
  const results = await Promise.allSettled(
    calls.map(({ topic, messages, sends }) => {
      const sent = producer.sendBatch({ acks: -1, compression, topicMessages: [{ topic, messages }] });
      return sends ? sends.ended(sent) : sent;
    }),
  );
  return results.flatMap((result, i) => (result.status === 'rejected' ? [{ items: calls[i]!.items, error: result.reason }] : []));
}
