// The release of a parked key (failureMode 'park-key'): the replay meets the dead letter a key is
// parked behind (its `parked` field) and puts it back on its partition, followed by the key's
// parked records in offset order, each carrying the key's park epoch (the consumer runs those
// while the key is parked). The key is released only once the consumer group is past the copies'
// first offset: records of the key still ahead of the copies in the partition when they were
// produced are parked meanwhile, and produced (a new round of copies) before the key goes.
import type { Message as KafkaMessage } from 'kafkajs';
import { DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS, ORIGINAL_OFFSET_HEADER } from '../contract/index.js';
import type { DeadLetterEnvelope } from '../runtime/envelope.js';
import { keyHashOf, parkedKeyFolder, parkedKeyItemId, type ParkedKeyCoordinates } from '../runtime/parking/parked-key-names.js';
import type { ParkedKey, ParkedKeyStore } from '../runtime/parking/parked-key-store.js';
import { sleep } from '../runtime/retry.js';
import { notAllowed, replayMessage } from './produce.js';
import type { ParkedObject, ParkedObjects } from './parked-objects.js';
import type { ReplaySettings } from './request.js';
import type { ReplayTracing } from './trace-links.js';

export interface ReleaseOptions {
  readonly store: ParkedKeyStore;
  readonly objects: ParkedObjects;
  /** Produces messages to a topic-partition in order (acks from all in-sync replicas) and returns the first one's offset. */
  readonly produce: (topic: string, partition: number, messages: KafkaMessage[]) => Promise<number>;
  /** The consumer group's committed offset of a partition (the next offset it will read); undefined when it has none. */
  readonly committed: (group: string, topic: string, partition: number) => Promise<number | undefined>;
  readonly replayLimit: number;
  readonly settings: ReplaySettings;
  /** Between two looks at the group's offset. @default 1,000 ms */
  readonly pollMs?: number;
  /** The run's tracing: each copy gets a send span linked to its own envelope's trace contexts. @default none (no SDK registered) */
  readonly tracing?: ReplayTracing;
}

/**
 * What a release did: the records produced, the dead letter's and the parked ones (in a dry run, that would be), whether the key
 * was released, and whether its dead letter is done with (released, or its key parked anew behind
 * a release copy that failed); when not, it stays in the queue and the next run goes on from where this one got.
 */
export interface ReleaseResult {
  readonly records: number;
  readonly released: boolean;
  readonly done: boolean;
}

/** A parked dead letter that cannot be released as it is: the message says why and what to do. */
export class ReleaseRefusedError extends Error {
  override name = 'ReleaseRefusedError';
}

/** The key a parked dead letter stands for; the consumer named it the same way (parked-key-names.ts). */
export function parkedKeyOf(envelope: DeadLetterEnvelope): ParkedKeyCoordinates {
  const { record, source } = envelope;
  if (record.key === null) throw new ReleaseRefusedError('its envelope says its key is parked, but the record has no key');
  return { group: source.consumerGroup ?? '*', topic: record.topic, partition: record.partition, keyHash: keyHashOf(record.key) };
}

/**
 * Produces a parked dead letter's record and the parked records behind it, and releases its key.
 * Nothing is produced when a parked record may not be replayed (the allowlist, the replay limit):
 * a ReleaseRefusedError says which. Every produced copy counts as a replay of its record.
 */
export async function releaseParkedKey(envelope: DeadLetterEnvelope, options: ReleaseOptions, deadline: number): Promise<ReleaseResult> {
  const { store, objects, settings } = options;
  const epoch = envelope.parked!.epoch;
  const { topic, partition } = envelope.record;
  if (settings.targetTopic !== undefined && settings.targetTopic !== topic)
    throw new ReleaseRefusedError(
      'its key is parked: it is released to its own topic and partition only, in order; replay it without targetTopic',
    );
  const key = parkedKeyOf(envelope);
  if (key.group === '*')
    throw new ReleaseRefusedError(
      "its envelope names no consumer group, so the replay cannot tell when the consumer is past the release: give the consumer's kafkaConsumer a consumerGroupId (the KafkaConsumer construct sets KAFKA_CONSUMER_GROUP)",
    );
  const id = parkedKeyItemId(key);
  const folder = parkedKeyFolder(key);
  const produceCopies = (envelopes: DeadLetterEnvelope[]) => {
    const sends = options.tracing?.sends(topic, partition);
    const produced = options.produce(
      topic,
      partition,
      envelopes.map((e) => replayMessage(e, true, epoch, sends?.headersFor(e))),
    );
    return sends ? sends.ended(produced) : produced;
  };
  let state = await store.get(id, deadline);
  if (state?.epoch !== epoch || state.released) {
    // Released already (a dead letter written twice), or parked anew: the record alone, which the
    // consumer parks behind the key's new head if it has one.
    if (!settings.dryRun) await produceCopies([envelope]);
    return { records: 1, released: false, done: true };
  }
  let records = 0;
  if (state.produced === undefined) {
    const listed = await objects.list(folder, deadline);
    const found = listed.filter((o) => o.offset > state!.after && o.offset <= state!.last).length;
    // The consumer writes a record's object before it counts it: fewer objects than the count means some were deleted.
    if (found < state.count)
      throw new ReleaseRefusedError(
        `its key's item counts ${state.count} parked records after offset ${state.after}, but the bucket holds ${found} under ${folder}: some were deleted (an S3 lifecycle rule or a person); nothing was produced. Restore them (a versioned bucket keeps their earlier versions), then replay again`,
      );
    const batch = await readable(listed, state.after, state.last, options, deadline);
    if (settings.dryRun) return { records: 1 + batch.length, released: false, done: false };
    const first = await produceCopies([envelope, ...batch.map((p) => p.envelope)]);
    records += 1 + batch.length;
    state = await marked(store.markProduced(id, epoch, state.last, first, deadline));
  } else if (settings.dryRun) {
    return { records: 0, released: false, done: false };
  }
  let produced = state?.produced ?? -1;
  while (state?.epoch === epoch && !state.released) {
    // The group's offset first, the key's item next: what the consumer parked before it committed is in the item.
    const committed = await options.committed(key.group, topic, partition);
    state = await store.get(id, deadline);
    if (state?.epoch !== epoch || state.released) break;
    if (state.last > state.produced!) {
      const more = await readable(await objects.list(folder, deadline), state.produced!, state.last, options, deadline);
      const first = await produceCopies(more.map((p) => p.envelope));
      records += more.length;
      state = await marked(store.markProduced(id, epoch, state.last, first, deadline));
      produced = state?.produced ?? produced;
      continue;
    }
    if (committed !== undefined && committed >= state.copiesFrom!) {
      const result = await store.release(
        id,
        epoch,
        state.last,
        Math.floor(Date.now() / 1_000) + DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS,
        deadline,
      );
      if (result === true) {
        await objects.delete(upTo(await objects.list(folder, deadline), state.last), deadline);
        return { records, released: true, done: true };
      }
      continue; // parked meanwhile
    }
    const wait = options.pollMs ?? 1_000;
    if (Date.now() + wait >= deadline) return { records, released: false, done: false };
    await sleep(wait);
  }
  // Parked anew behind a release copy that failed: what was produced is parked again behind it
  // (as copies); what was not is released with the new epoch.
  await objects.delete(upTo(await objects.list(folder, deadline), produced), deadline);
  return { records, released: false, done: true };
}

/** The offset of the record a parked envelope stands for: its original's, for a copy. */
function originalOffset(envelope: DeadLetterEnvelope): number {
  const header = envelope.record.headers.find((h) => h.name === ORIGINAL_OFFSET_HEADER);
  const offset = header ? Number(Buffer.from(header.value, 'base64').toString('utf8')) : Number.NaN;
  return Number.isSafeInteger(offset) ? offset : envelope.record.offset;
}

const upTo = (listed: ParkedObject[], offset: number) => listed.filter((o) => o.offset <= offset).map((o) => o.key);

async function marked(result: Promise<ParkedKey | { changed: ParkedKey | undefined }>): Promise<ParkedKey | undefined> {
  const r = await result;
  return 'changed' in r ? r.changed : r;
}

/**
 * The parked records in (after, upTo] (the consumer writes a record's object before its offset to
 * the item, so each offset the item counts has its object), read and checked (none produced if one may not be), in the
 * order of the records they stand for: a release copy parked again (behind a copy that failed)
 * sits at its copy's offset, but goes where its original was (`x-dlq-original-offset`); one record
 * parked twice (a copy of it produced twice) goes once.
 */
async function readable(listed: ParkedObject[], after: number, upTo: number, options: ReleaseOptions, deadline: number) {
  const wanted = listed.filter((o) => o.offset > after && o.offset <= upTo);
  const read = await Promise.all(wanted.map(async (object) => ({ object, envelope: await options.objects.read(object.key, deadline) })));
  const byOriginal = new Map(read.map((r) => [originalOffset(r.envelope), r]));
  const records = [...byOriginal.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
  for (const { object, envelope } of records) {
    const refused = notAllowed(envelope, options.settings);
    if (refused) throw new ReleaseRefusedError(`the parked record at offset ${object.offset}: ${refused}`);
    if (envelope.replayCount >= options.replayLimit)
      throw new ReleaseRefusedError(
        `the parked record at offset ${object.offset} was replayed ${envelope.replayCount} times already (limit ${options.replayLimit})`,
      );
  }
  return records;
}
