// Where a parked key lives (park-key): its item in the parked-keys table and its records' objects
// in the dead-letter bucket. The consumer writes them and the replay reads them back, so both
// build them here. Keys are named by the SHA-256 of their bytes: any key fits a DynamoDB key and
// an S3 object name, and neither quotes a record's contents.
import { createHash } from 'node:crypto';
import { PARKED_RECORDS_PREFIX } from '../../contract/index.js';
import { mappingConsumerGroupId } from '../consumer-group.js';

/** Digits of an offset in an object name: Kafka offsets are signed 64-bit, at most 19 digits. */
export const OFFSET_DIGITS = 20;

/** A key of one topic-partition, as the park-key mode knows it. */
export interface ParkedKeyCoordinates {
  /** The mapping's consumer group, `<consumerGroupId>-<topic>`, or `*` without a consumer group id. */
  readonly group: string;
  readonly topic: string;
  readonly partition: number;
  /** The key's SHA-256, hex. */
  readonly keyHash: string;
}

/** The SHA-256 (hex) of a key given as the event gives it, base64. */
export function keyHashOf(base64Key: string): string {
  return createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('hex');
}

/** The group part of the names: the mapping's group, or `*` when the consumer has no group id. */
export function parkingGroup(consumerGroupId: string | undefined, topic: string): string {
  return consumerGroupId ? mappingConsumerGroupId(consumerGroupId, topic) : '*';
}

/** The key's item id in the parked-keys table: `k|<group>|<topic>|<partition>|<sha256(key)>`. */
export function parkedKeyItemId(k: ParkedKeyCoordinates): string {
  return `k|${k.group}|${k.topic}|${k.partition}|${k.keyHash}`;
}

/** The folder of the key's parked records: `parked/<group>/<topic>/<partition>/<sha256(key)>/`. */
export function parkedKeyFolder(k: ParkedKeyCoordinates): string {
  return `${PARKED_RECORDS_PREFIX}${encodeURIComponent(k.group)}/${encodeURIComponent(k.topic)}/${k.partition}/${k.keyHash}/`;
}

/**
 * A parked record's object: its offset zero-padded, because S3 lists keys in UTF-8 binary order
 * (docs/aws-contracts.md): padded, that order is offset order.
 */
export function parkedRecordObjectKey(k: ParkedKeyCoordinates, offset: number): string {
  return `${parkedKeyFolder(k)}${String(offset).padStart(OFFSET_DIGITS, '0')}.json`;
}

/** The offset an object name of {@link parkedKeyFolder} holds, or undefined for any other name. */
export function offsetOfParkedObject(folder: string, objectKey: string): number | undefined {
  if (!objectKey.startsWith(folder)) return undefined;
  const match = /^(\d{20})\.json$/.exec(objectKey.slice(folder.length));
  return match ? Number(match[1]) : undefined;
}
