import { describe, expect, it } from 'vitest';
import { GroundTruth, recording } from '../../../local/ground-truth.js';
import { ORIGINAL_OFFSET_HEADER, ORIGINAL_PARTITION_HEADER, ORIGINAL_TOPIC_HEADER } from '../../../src/contract/index.js';
import { buildKafkaEvent } from '../../../local/esm/lambda-event.js';
import type { DeadLetterEnvelope } from '../../../src/runtime/envelope.js';
import { DownstreamOutageError } from '../../../local/errors.js';

const record = (partition: number, offset: number, headers: Record<string, string> = {}, key?: string) => ({
  topic: 't',
  partition,
  offset,
  key: key === undefined ? undefined : Buffer.from(key),
  headers: { getString: (name: string) => headers[name] },
});
const deadLetter = (offset: number, errorType: string) =>
  ({ record: { topic: 't', partition: 0, offset, headers: [] }, error: { type: errorType, message: '' } }) as unknown as DeadLetterEnvelope;

describe('GroundTruth', () => {
  it('counts what the function finished (a replayed copy as its original), what the DLQ holds, and what is lost', async () => {
    const truth = new GroundTruth();
    try {
      truth.produced('t', 0, 0, 5);
      const finish = recording(async () => undefined);
      await finish(record(0, 0));
      await finish(record(0, 1));
      await finish(record(0, 1));
      await finish(record(1, 7, { [ORIGINAL_PARTITION_HEADER]: '0', [ORIGINAL_OFFSET_HEADER]: '1' })); // a replayed copy of 0@1
      await recording(async () => Promise.reject(new Error('fails')))(record(0, 2)).catch(() => undefined);
      truth.deadLettered(deadLetter(3, 'Error'));
      expect(truth.summary()).toEqual({
        produced: 5,
        processed: 2,
        deadLettered: 1,
        lost: 2,
        duplicates: 0, // nothing was delivered through delivering()
        duplicateEffects: 1,
        maxProcessedTimes: 3,
        outageDeadLetters: 0,
        outOfOrder: 0,
        delayedCleanKeys: 0,
        lostRecords: ['t-0@2', 't-0@4'],
      });
    } finally {
      truth.close();
    }
  });

  // Issue 35: keys without failures must never wait behind a parked key; the records that did are
  // listed with what their dead letters said (a parked record's envelope is in S3, not the queue).
  it('counts and lists the records of clean keys first finished as replayed copies, with their dead letters', async () => {
    const truth = new GroundTruth({ order: 'key-with-replays', cleanKey: (key) => key !== 'bad' });
    try {
      truth.produced('t', 0, 0, 5);
      const copyOf = (offset: number, key: string) =>
        record(0, 10 + offset, { [ORIGINAL_PARTITION_HEADER]: '0', [ORIGINAL_OFFSET_HEADER]: String(offset) }, key);
      truth.deadLettered({ ...deadLetter(1, 'Error'), parked: { epoch: 3 } });
      const finish = recording(async () => undefined);
      await finish(record(0, 0, {}, 'a'));
      await finish(copyOf(1, 'a'));
      await finish(copyOf(2, 'bad'));
      await finish(copyOf(3, 'a'));
      await finish(record(0, 4, {}, 'a'));
      expect(truth.summary()).toMatchObject({
        outOfOrder: 0,
        delayedCleanKeys: 2,
        delayedCleanRecords: ['t-0@1 a: Error parked 3', 't-0@3 a: no dead letter read'],
      });
    } finally {
      truth.close();
    }
  });

  // Issue 32: deliveries are counted where the function is invoked, outside the runtime, so a
  // record the runtime skips as already done is a duplicate delivery but not a duplicate effect.
  it('counts deliveries at the invocation (a replayed copy, even on another topic, as its original), apart from effects', async () => {
    const truth = new GroundTruth();
    try {
      truth.produced('t', 0, 0, 3);
      const invoked: unknown[] = [];
      const handler = truth.delivering(async (event: unknown) => invoked.push(event));
      const replayedCopy = {
        topic: 'elsewhere',
        partition: 2,
        offset: 40,
        headers: [
          [ORIGINAL_TOPIC_HEADER, 't'],
          [ORIGINAL_PARTITION_HEADER, '0'],
          [ORIGINAL_OFFSET_HEADER, '1'],
        ] as const,
      };
      await handler(
        buildKafkaEvent([
          { topic: 't', partition: 0, offset: 0 },
          { topic: 't', partition: 0, offset: 1 },
        ]),
      );
      await handler(buildKafkaEvent([replayedCopy])); // 0@1 again, as a copy on another topic
      expect(invoked).toHaveLength(2);
      await recording(async () => undefined)(record(0, 1)); // its effect, once
      expect(truth.summary()).toMatchObject({ produced: 3, processed: 1, duplicates: 1, duplicateEffects: 0, maxProcessedTimes: 1 });
    } finally {
      truth.close();
    }
  });

  // Issue 34: the outage breaker keeps records in order and out of the DLQ; this is how the chaos run checks it.
  it('counts outage dead letters, and records first finished after a later one of their key (replayed copies left out)', async () => {
    const truth = new GroundTruth();
    try {
      truth.produced('t', 0, 0, 6);
      const finish = recording(async () => undefined);
      await finish(record(0, 0, {}, 'a'));
      await finish(record(0, 2, {}, 'a'));
      await finish(record(0, 1, {}, 'a')); // after a@2: out of order
      await finish(record(0, 2, {}, 'a')); // again: not a first completion
      await finish(record(0, 4, {}, 'b'));
      await finish(record(0, 5, {}, 'a'));
      await finish(record(1, 9, { [ORIGINAL_PARTITION_HEADER]: '0', [ORIGINAL_OFFSET_HEADER]: '3' }, 'b')); // a replayed copy of b@3
      truth.deadLettered(deadLetter(3, DownstreamOutageError.name));
      truth.deadLettered(deadLetter(4, 'Error'));
      expect(truth.summary()).toMatchObject({ processed: 6, deadLettered: 2, outageDeadLetters: 1, outOfOrder: 1 });
    } finally {
      truth.close();
    }
  });
});
