// Envelope v1's optional fields: `parked` (written for a record a key is parked behind) and `trace` (the
// record's and its failure span's contexts), read back by the replay's validator; envelopes without them still parse.
import { describe, expect, it } from 'vitest';
import { buildEnvelope, parseDeadLetter } from '../../../src/runtime/envelope.js';
import { MalformedDeadLetterError } from '../../../src/runtime/errors.js';
import { decodeEvent, recordAt } from '../../../src/runtime/event.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';

const partition = decodeEvent(buildKafkaEvent([{ topic: 't', partition: 0, offset: 4, key: 'k', value: 'v' }])).partitions[0]!;
const failure = {
  error: new Error('bad'),
  attempts: 1,
  firstFailureAt: 0,
  lastFailureAt: 0,
  source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' },
};

describe("envelope v1's parked field", () => {
  it('is written when the key is parked behind the record, and parsed back', () => {
    const envelope = buildEnvelope(recordAt(partition, partition.entries[0]!), { ...failure, parked: { epoch: 1_765_000_000_123 } });
    expect(envelope.parked).toEqual({ epoch: 1_765_000_000_123 });
    expect(parseDeadLetter(JSON.stringify(envelope))).toEqual(envelope);
  });

  it('is absent otherwise, and an envelope without it (older ones) parses as before', () => {
    const envelope = buildEnvelope(recordAt(partition, partition.entries[0]!), failure);
    expect('parked' in envelope).toBe(false);
    expect(parseDeadLetter(JSON.stringify(envelope))).toEqual(envelope);
  });

  it('is refused when it is not {"epoch": a whole number ≥ 0}, naming the field', () => {
    const envelope = buildEnvelope(recordAt(partition, partition.entries[0]!), failure);
    for (const parked of [null, 7, { epoch: -1 }, { epoch: 1.5 }, { epoch: '3' }, {}]) {
      const body = JSON.stringify({ ...envelope, parked });
      expect(() => parseDeadLetter(body)).toThrow(MalformedDeadLetterError);
      expect(() => parseDeadLetter(body)).toThrow(/parked, when present, must be/);
    }
  });
});

describe("envelope v1's trace field", () => {
  const envelope = buildEnvelope(recordAt(partition, partition.entries[0]!), {
    ...failure,
    trace: { record: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } },
  });

  it('is written when given, and parsed back', () => {
    expect(parseDeadLetter(JSON.stringify(envelope))).toEqual(envelope);
  });

  it('is dropped, never refused, when malformed: trace contexts only link spans, and must not keep a record from its topic', () => {
    const tooMany = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`f${i}`, 'x']));
    for (const trace of [
      null,
      'traceparent',
      [],
      { record: 7 },
      { failure: { traceparent: 1 } },
      { record: tooMany },
      { record: { t: 'x'.repeat(8193) } },
    ]) {
      const parsed = parseDeadLetter(JSON.stringify({ ...envelope, trace }));
      expect('trace' in parsed).toBe(false);
      expect(parsed).toMatchObject({ record: envelope.record, replayCount: 0 });
    }
  });
});
