// The names the layers agree on: replayed records carry the headers on the topic and the README
// documents them, operators read the attribute on a re-enqueued dead letter.
import { describe, expect, it } from 'vitest';
import { fresh } from '../../support/fresh.js';
import type * as Contract from '../../../src/contract/index.js';

describe('replay header names', () => {
  it('are the documented ones', async () => {
    const names = await fresh<typeof Contract>('../../src/contract/index.js');
    expect([
      names.REPLAY_COUNT_HEADER,
      names.ORIGINAL_OFFSET_HEADER,
      names.ORIGINAL_PARTITION_HEADER,
      names.ORIGINAL_TIMESTAMP_HEADER,
      names.ORIGINAL_TOPIC_HEADER,
    ]).toEqual(['x-dlq-replay-count', 'x-dlq-original-offset', 'x-dlq-original-partition', 'x-dlq-original-timestamp', 'x-dlq-original-topic']);
  });
});

describe('the re-sent dead letter attribute', () => {
  it('is named dlqFirstSentAt, and every dead letter keeps room for it', async () => {
    const contract = await fresh<typeof Contract>('../../src/contract/index.js');
    expect(contract.FIRST_SENT_ATTRIBUTE).toBe('dlqFirstSentAt');
    // Its name, "Number" and an epoch-ms value fit in what is kept.
    expect('dlqFirstSentAt'.length + 'Number'.length + String(Date.UTC(9999, 0)).length).toBeLessThanOrEqual(
      contract.RENEWAL_ATTRIBUTES_BYTES,
    );
  });
});
