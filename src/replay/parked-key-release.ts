// The release of a parked key (failureMode 'park-key'): the replay meets the dead letter a key is
// parked behind (its `parked` field), produces it, then the key's parked records in offset order,
// all to the record's own partition in one ordered stream, each carrying the key's park epoch, and
// only then releases the key, on condition that nothing was parked meanwhile (else it produces the
// newcomers and tries again) and that the key was not parked anew.
import type { Message as KafkaMessage } from 'kafkajs';
import type { DeadLetterEnvelope } from '../runtime/envelope.js';
import { keyHashOf, parkedKeyFolder, parkedKeyItemId, type ParkedKeyCoordinates } from '../runtime/parking/parked-key-names.js';
import type { ParkedKey, ParkedKeyStore } from '../runtime/parking/parked-key-store.js';
import { notAllowed, replayMessage } from './produce.js';
import type { ParkedObject, ParkedObjects } from './parked-objects.js';
import type { ReplaySettings } from './request.js';

export interface ReleaseOptions {
  readonly store: ParkedKeyStore;
  readonly objects: ParkedObjects;
  /** Produces messages to a topic-partition in order (acks from all in-sync replicas); throws when not all were. */
  readonly produce: (topic: string, messages: KafkaMessage[]) => Promise<void>;
  readonly replayLimit: number;
  readonly settings: ReplaySettings;
}

/** What a release did: the parked records produced (or, in a dry run, that would be), and whether the key was released. */
export interface ReleaseResult {
  readonly records: number;
  readonly released: boolean;
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
 * Produces a parked dead letter's record and releases its key with the parked records behind it.
 * Nothing is produced when a parked record may not be replayed (the allowlist, the replay limit):
 * a ReleaseRefusedError says which. Every produced copy counts as a replay of its record.
 */
export async function releaseParkedKey(envelope: DeadLetterEnvelope, options: ReleaseOptions, deadline: number): Promise<ReleaseResult> {
  const { store, objects, settings } = options;
  const epoch = envelope.parked!.epoch;
  if (settings.targetTopic !== undefined && settings.targetTopic !== envelope.record.topic)
    throw new ReleaseRefusedError(
      `its key is parked: it is released to its own topic and partition only, in order; replay it without targetTopic`,
    );
  const key = parkedKeyOf(envelope);
  const id = parkedKeyItemId(key);
  const folder = parkedKeyFolder(key);
  let state = await store.get(id, deadline);
  const listed = await objects.list(folder, deadline);
  // Only what the key's item counts is produced: above `last`, an object is being parked now.
  const batch = state?.epoch === epoch ? await readable(listed, state.head, state.last, options, deadline) : [];
  if (settings.dryRun) return { records: batch.length, released: false };
  const produced: ParkedObject[] = [];
  await options.produce(envelope.record.topic, [
    replayMessage(envelope, true, epoch),
    ...batch.map((p) => replayMessage(p.envelope, true, epoch)),
  ]);
  produced.push(...batch.map((p) => p.object));
  let released = false;
  // Parked meanwhile: produce the newcomers, then try again (each round a conditional delete).
  while (state?.epoch === epoch && Date.now() < deadline) {
    const result = await store.release(id, epoch, state.last, deadline);
    if (result === true) {
      released = true;
      break;
    }
    const now: ParkedKey | undefined = result.changed;
    if (now?.epoch !== epoch || now.last <= state.last) break; // parked anew behind a failed copy, or released already
    const more = await readable(await objects.list(folder, deadline), state.last, now.last, options, deadline);
    await options.produce(
      envelope.record.topic,
      more.map((p) => replayMessage(p.envelope, true, epoch)),
    );
    produced.push(...more.map((p) => p.object));
    state = now;
  }
  // What was produced, and what an earlier park left before its head: leftovers no release would produce.
  const stale = listed.filter((o) => o.offset <= (state?.head ?? -1) && !produced.includes(o));
  await objects.delete(
    [...produced, ...(released ? stale : [])].map((o) => o.key),
    deadline,
  );
  return { records: produced.length, released };
}

/** The parked records in (after, upTo], read and checked: none produced if one may not be. */
async function readable(listed: ParkedObject[], after: number, upTo: number, options: ReleaseOptions, deadline: number) {
  const wanted = listed.filter((o) => o.offset > after && o.offset <= upTo);
  if (wanted.length > 0 && wanted.at(-1)!.offset !== upTo)
    throw new ReleaseRefusedError(`the parked record at offset ${upTo} is not in the bucket yet; run the replay again shortly`);
  const records = await Promise.all(wanted.map(async (object) => ({ object, envelope: await options.objects.read(object.key, deadline) })));
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
