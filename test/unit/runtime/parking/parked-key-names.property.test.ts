// The names of parked keys and records: any key bytes give a fixed-size hex name that quotes
// nothing of the key; object names list in UTF-8 binary order, as S3 lists ("List results are always
// returned in UTF-8 binary order": https://docs.aws.amazon.com/AmazonS3/latest/userguide/ListingKeysUsingAPIs.html,
// docs/aws-contracts.md §14) in offset order, and give their offset back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  keyHashOf,
  offsetOfParkedObject,
  parkedKeyFolder,
  parkedKeyItemId,
  parkedRecordObjectKey,
} from '../../../../src/runtime/parking/parked-key-names.js';
import { bytes, propertyRuns } from '../../../support/properties.js';

const coordinates = (key: Buffer) => ({ group: 'app-orders', topic: 'orders', partition: 3, keyHash: keyHashOf(key.toString('base64')) });
const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
// Kafka offsets are signed 64-bit; JavaScript numbers hold them exactly up to 2^53.
const offset = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

describe('parked-key names', () => {
  it('names a key by the SHA-256 of its bytes: 64 hex digits, the same for the same bytes', () => {
    fc.assert(
      fc.property(bytes(256), (key) => {
        const hash = keyHashOf(key.toString('base64'));
        expect(hash).toMatch(/^[0-9a-f]{64}$/);
        expect(parkedKeyItemId(coordinates(key))).toBe(`k|app-orders|orders|3|${hash}`);
        expect(parkedKeyFolder(coordinates(key))).toBe(`parked/app-orders/orders/3/${hash}/`);
      }),
      propertyRuns(),
    );
  });

  it('lists object names in offset order and reads each offset back', () => {
    fc.assert(
      fc.property(bytes(32), fc.uniqueArray(offset, { maxLength: 30 }), (key, offsets) => {
        const k = coordinates(key);
        const names = offsets.map((o) => parkedRecordObjectKey(k, o));
        const listed = [...names].sort(utf8Order).map((name) => offsetOfParkedObject(parkedKeyFolder(k), name));
        expect(listed).toEqual([...offsets].sort((a, b) => a - b));
      }),
      propertyRuns(),
    );
  });

  it('reads no offset from a name that is not a parked record of the folder', () => {
    const k = coordinates(Buffer.from('a'));
    const folder = parkedKeyFolder(k);
    expect(offsetOfParkedObject(folder, `${folder}00000000000000000007.json`)).toBe(7);
    for (const name of [
      `${folder}7.json`,
      `${folder}00000000000000000007.txt`,
      `parked/other/00000000000000000007.json`,
      `${folder}x/00000000000000000007.json`,
    ])
      expect(offsetOfParkedObject(folder, name)).toBeUndefined();
  });
});
