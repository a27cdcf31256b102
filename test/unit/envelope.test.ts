import { describe, expect, it } from 'vitest';
import { buildEnvelope, parseDeadLetter, MalformedDeadLetterError, REPLAY_COUNT_HEADER } from '../../functions/runtime/envelope';
import { partitionOf } from '../support/records';
import type { BrokerRecord } from '../../local/esm/lambda-event';

const failure = { error: new TypeError('boom'), attempts: 2, firstFailureAt: 1_000, lastFailureAt: 2_000, source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' } };
const envelopeOf = (record: BrokerRecord) => buildEnvelope(partitionOf([record])[0]!, failure);

describe('dead-letter envelope', () => {
  it('carries the replay count the replay wrote into the record, so that the loop guard can trip', () => {
    expect(envelopeOf({ topic: 't', partition: 0, offset: 1, value: '{}' }).replayCount).toBe(0);
    expect(envelopeOf({ topic: 't', partition: 0, offset: 1, value: '{}', headers: [[REPLAY_COUNT_HEADER, '2']] }).replayCount).toBe(2);
    expect(envelopeOf({ topic: 't', partition: 0, offset: 1, value: '{}', headers: [[REPLAY_COUNT_HEADER, 'x']] }).replayCount).toBe(0);
  });

  it('round-trips through parseDeadLetter', () => {
    const e = envelopeOf({ topic: 't', partition: 3, offset: 9, key: 'k', value: null, headers: [['a', '1'], ['a', '2']] });
    expect(parseDeadLetter(JSON.stringify(e))).toEqual(e);
  });

  it.each([
    ['not json', 'the body is not JSON'],
    ['42', 'the body is not a JSON object'],
    ['{"version":2}', 'unsupported envelope version 2'],
    ['{"version":1,"record":{"topic":"t","partition":0}}', '"record" must hold topic, partition and offset'],
    ['{"version":1,"kind":"kafka-dead-letter-pointer","record":{"topic":"t","partition":0,"offset":1},"s3":{"bucket":"b"}}', '"s3" must hold bucket and key'],
    ['{"version":1,"kind":"other","record":{"topic":"t","partition":0,"offset":1}}', 'unknown kind "other"'],
    ['{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":"%%","value":null}}', 'record.key and record.value must be base64 or null'],
    ['{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":null,"value":null}}', 'record.timestamp must be a number'],
    ['{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":null,"value":null,"timestamp":1,"headers":[{"name":1}]}}', 'record.headers must be a list'],
    ['{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":null,"value":null,"timestamp":1,"headers":[]},"replayCount":-1}', 'replayCount must be a whole number ≥ 0'],
  ])('refuses %s, saying why', (body, message) => {
    expect(() => parseDeadLetter(body)).toThrow(MalformedDeadLetterError);
    expect(() => parseDeadLetter(body)).toThrow(message);
  });
});
