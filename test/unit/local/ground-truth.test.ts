import { describe, expect, it } from 'vitest';
import { GroundTruth, recording } from '../../../local/ground-truth.js';
import { ORIGINAL_OFFSET_HEADER, ORIGINAL_PARTITION_HEADER } from '../../../src/contract/index.js';
import type { DeadLetterEnvelope } from '../../../src/runtime/envelope.js';

const record = (partition: number, offset: number, headers: Record<string, string> = {}) => ({
  topic: 't',
  partition,
  offset,
  headers: { getString: (name: string) => headers[name] },
});

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
      truth.deadLettered({ record: { topic: 't', partition: 0, offset: 3, headers: [] } } as unknown as DeadLetterEnvelope);
      expect(truth.summary()).toEqual({
        produced: 5,
        processed: 2,
        deadLettered: 1,
        lost: 2,
        duplicates: 1,
        maxProcessedTimes: 3,
        lostRecords: ['t-0@2', 't-0@4'],
      });
    } finally {
      truth.close();
    }
  });
});
