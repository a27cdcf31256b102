import { describe, expect, it } from 'vitest';
import { GroundTruth, recording } from '../../../local/ground-truth.js';
import { ORIGINAL_OFFSET_HEADER, ORIGINAL_PARTITION_HEADER, ORIGINAL_TOPIC_HEADER } from '../../../src/contract/index.js';
import { buildKafkaEvent } from '../../../local/esm/lambda-event.js';
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
        duplicates: 0, // nothing was delivered through delivering()
        duplicateEffects: 1,
        maxProcessedTimes: 3,
        lostRecords: ['t-0@2', 't-0@4'],
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
});
