// Item 9 of issue 17: a replayed record is not "too old" the moment it arrives.
import { describe, expect, it } from 'vitest';
import { ORIGINAL_TIMESTAMP_HEADER } from '../../../src/contract/index.js';
import type { DeadLetterEnvelope } from '../../../src/runtime/envelope.js';
import { replayMessage } from '../../../src/replay/produce.js';
import '../../../src/kafka/kafka-headers.js';

const header = (m: ReturnType<typeof replayMessage>, name: string) =>
  (m.orderedHeaders ?? []).filter((h) => h.key === name).map((h) => h.value);

const envelope = (timestamp: number, headers: DeadLetterEnvelope['record']['headers'] = []) =>
  ({
    version: 1,
    kind: 'kafka-dead-letter',
    replayCount: 0,
    record: {
      topic: 'orders',
      partition: 2,
      offset: 7,
      timestamp,
      timestampType: 'CREATE_TIME',
      key: null,
      value: Buffer.from('{}').toString('base64'),
      headers,
    },
  }) as unknown as DeadLetterEnvelope;

describe('replayed record timestamps', () => {
  // AWS Lambda Developer Guide / CloudFormation AWS::Lambda::EventSourceMapping,
  // "MaximumRecordAgeInSeconds": "Discard records older than the specified age." Records older than
  // that are not sent to the function; they go to the on-failure destination. A dead letter is
  // usually older than maxRecordAge by the time it is replayed, so it must not keep its old timestamp.
  it('lets the producer stamp the replayed record now and keeps the original in a header', () => {
    const message = replayMessage(envelope(1_700_000_000_000), true);
    expect(message.timestamp).toBeUndefined(); // kafkajs stamps Date.now()
    expect(header(message, ORIGINAL_TIMESTAMP_HEADER)).toEqual([Buffer.from('1700000000000')]);
    expect(message.partition).toBe(2);
  });

  it('keeps the first original timestamp across replays', () => {
    const again = envelope(1_800_000_000_000, [
      { name: ORIGINAL_TIMESTAMP_HEADER, value: Buffer.from('1700000000000').toString('base64') },
    ]);
    expect(header(replayMessage(again, false), ORIGINAL_TIMESTAMP_HEADER)).toEqual([Buffer.from('1700000000000')]);
  });
});
