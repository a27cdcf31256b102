import { describe, expect, it } from 'vitest';
import type { Message } from 'kafkajs';
import '../../../src/kafka/kafka-headers.js';
import { replayMessage } from '../../../src/replay/produce.js';
import {
  ORIGINAL_OFFSET_HEADER,
  ORIGINAL_PARTITION_HEADER,
  ORIGINAL_TIMESTAMP_HEADER,
  ORIGINAL_TOPIC_HEADER,
  REPLAY_COUNT_HEADER,
} from '../../../src/contract/index.js';
import { buildEnvelope } from '../../../src/runtime/envelope.js';
import { partitionOf } from '../../support/records.js';

const failure = {
  error: new Error('x'),
  attempts: 1,
  firstFailureAt: 0,
  lastFailureAt: 0,
  source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' },
};
const header = (m: Message, name: string) => (m.orderedHeaders ?? []).filter((h) => h.key === name).map((h) => String(h.value));

describe('replayMessage', () => {
  it('names the original record, and keeps naming it when a replayed copy is replayed again', () => {
    const [original] = partitionOf([{ topic: 'orders', partition: 2, offset: 5, timestamp: 1_000, value: '{}', headers: [['a', '1']] }]);
    const first = replayMessage(buildEnvelope(original!, failure), true);
    expect(header(first, ORIGINAL_OFFSET_HEADER)).toEqual(['5']);
    expect(header(first, REPLAY_COUNT_HEADER)).toEqual(['1']);
    expect(header(first, ORIGINAL_TOPIC_HEADER)).toEqual(['orders']);
    // The copy lands at offset 100 of partition 2, fails again and is replayed once more.
    const copyHeaders = (first.orderedHeaders ?? []).map((h) => [h.key, h.value!] as [string, Buffer]);
    const [copy] = partitionOf([{ topic: 'orders', partition: 2, offset: 100, timestamp: 9_000, value: '{}', headers: copyHeaders }]);
    const second = replayMessage(buildEnvelope(copy!, failure), true);
    expect(header(second, ORIGINAL_OFFSET_HEADER)).toEqual(['5']);
    expect(header(second, ORIGINAL_TOPIC_HEADER)).toEqual(['orders']);
    expect(header(second, ORIGINAL_PARTITION_HEADER)).toEqual(['2']);
    expect(header(second, ORIGINAL_TIMESTAMP_HEADER)).toEqual(['1000']);
    expect(header(second, REPLAY_COUNT_HEADER)).toEqual(['2']);
    expect(header(second, 'a')).toEqual(['1']);
  });

  // kafkajs without patch 002 (patches/README.md) ignores orderedHeaders: the grouped headers must
  // still carry every header, the replay count above all (the loop guard reads it back).
  it('also gives the headers grouped by name, for a kafkajs without the patch', () => {
    const [record] = partitionOf([
      {
        topic: 'orders',
        partition: 0,
        offset: 1,
        value: '{}',
        headers: [
          ['a', '1'],
          ['b', '2'],
          ['a', '3'],
        ],
      },
    ]);
    const message = replayMessage(buildEnvelope(record!, failure), true);
    const grouped = Object.fromEntries(Object.entries(message.headers as Record<string, Buffer[]>).map(([k, v]) => [k, v.map(String)]));
    expect(grouped).toEqual({
      a: ['1', '3'],
      b: ['2'],
      [REPLAY_COUNT_HEADER]: ['1'],
      [ORIGINAL_TOPIC_HEADER]: ['orders'],
      [ORIGINAL_OFFSET_HEADER]: ['1'],
      [ORIGINAL_PARTITION_HEADER]: ['0'],
      [ORIGINAL_TIMESTAMP_HEADER]: [String(record!.timestamp)],
    });
  });
});

describe('replayMessage, null header values', () => {
  it('keeps a header without a value in the ordered list, and leaves it out of the grouped one', () => {
    const envelope = { ...buildEnvelope(partitionOf([{ topic: 't', partition: 0, offset: 1, value: '{}' }])[0]!, failure) };
    const withNull = { ...envelope, record: { ...envelope.record, headers: [{ name: 'n', value: null as unknown as string }] } };
    const message = replayMessage(withNull, true);
    expect((message.orderedHeaders ?? []).find((h) => h.key === 'n')).toEqual({ key: 'n', value: null });
    expect(message.headers).not.toHaveProperty('n');
  });
});
