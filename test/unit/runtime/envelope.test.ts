import { describe, expect, it } from 'vitest';
import { describeError } from '../../../src/contract/errors.js';
import { REPLAY_COUNT_HEADER } from '../../../src/contract/index.js';
import { buildEnvelope, parseDeadLetter } from '../../../src/runtime/envelope.js';
import { MalformedDeadLetterError } from '../../../src/runtime/errors.js';
import { partitionOf } from '../../support/records.js';
import type { BrokerRecord } from '../../support/kafka-event.js';

const failure = {
  error: new TypeError('boom'),
  attempts: 2,
  firstFailureAt: 1_000,
  lastFailureAt: 2_000,
  source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' },
};
const envelopeOf = (record: BrokerRecord) => buildEnvelope(partitionOf([record])[0]!, failure);

describe('dead-letter envelope', () => {
  it('carries the replay count the replay wrote into the record, so that the loop guard can trip', () => {
    expect(envelopeOf({ topic: 't', partition: 0, offset: 1, value: '{}' }).replayCount).toBe(0);
    expect(envelopeOf({ topic: 't', partition: 0, offset: 1, value: '{}', headers: [[REPLAY_COUNT_HEADER, '2']] }).replayCount).toBe(2);
    for (const damaged of ['x', '-1', '1.5', '0']) {
      expect(envelopeOf({ topic: 't', partition: 0, offset: 1, value: '{}', headers: [[REPLAY_COUNT_HEADER, damaged]] }).replayCount).toBe(
        0,
      );
    }
    expect(envelopeOf({ topic: 't', partition: 0, offset: 1, value: '{}', headers: [[REPLAY_COUNT_HEADER, '1']] }).replayCount).toBe(1);
  });

  it('records the failure: error, attempts, times as ISO text, and where the record came from', () => {
    const e = envelopeOf({
      topic: 't',
      partition: 3,
      offset: 9,
      timestamp: 5,
      timestampType: 'LOG_APPEND_TIME',
      key: 'k',
      value: 'v',
      headers: [['a', '1']],
    });
    expect(e).toEqual({
      version: 1,
      kind: 'kafka-dead-letter',
      record: {
        topic: 't',
        partition: 3,
        offset: 9,
        timestamp: 5,
        timestampType: 'LOG_APPEND_TIME',
        key: 'aw==',
        value: 'dg==',
        headers: [{ name: 'a', value: 'MQ==' }],
      },
      error: { type: 'TypeError', message: 'boom', stack: failure.error.stack },
      attempts: 2,
      firstFailureAt: '1970-01-01T00:00:01.000Z',
      lastFailureAt: '1970-01-01T00:00:02.000Z',
      source: failure.source,
      replayCount: 0,
    });
  });

  it('describes errors: the name (else the class), the message and stack cut to 8 KiB and 4 KiB, and anything thrown that is not an Error', () => {
    class Custom extends Error {}
    const unnamed = new Custom('m'.repeat(10_000));
    unnamed.name = '';
    unnamed.stack = 's'.repeat(5_000);
    expect(describeError(unnamed)).toEqual({ type: 'Custom', message: 'm'.repeat(8_192), stack: 's'.repeat(4_096) });
    const stackless = new RangeError('r');
    stackless.stack = '';
    expect(describeError(stackless)).toEqual({ type: 'RangeError', message: 'r' });
    expect(describeError('x'.repeat(9_000))).toEqual({ type: 'string', message: 'x'.repeat(8_192) });
    expect(describeError(undefined)).toEqual({ type: 'undefined', message: 'undefined' });
    expect(describeError({ code: 1 })).toEqual({ type: 'object', message: '[object Object]' });
  });

  it('round-trips through parseDeadLetter', () => {
    const e = envelopeOf({
      topic: 't',
      partition: 3,
      offset: 9,
      key: 'k',
      value: null,
      headers: [
        ['a', '1'],
        ['a', '2'],
      ],
    });
    expect(parseDeadLetter(JSON.stringify(e))).toEqual(e);
  });

  it('reads a pointer to S3 without the envelope fields, and headers without values', () => {
    const pointer = {
      version: 1,
      kind: 'kafka-dead-letter-pointer',
      s3: { bucket: 'b', key: 'k' },
      record: { topic: 't', partition: 0, offset: 1 },
      error: { type: 'E', message: 'm' },
      replayCount: 0,
    };
    expect(parseDeadLetter(JSON.stringify(pointer))).toEqual(pointer);
    const envelope = {
      version: 1,
      kind: 'kafka-dead-letter',
      record: {
        topic: 't',
        partition: 0,
        offset: 1,
        key: 'YQ==',
        value: 'YWI=',
        timestamp: 1,
        headers: [
          { name: 'h', value: null },
          { name: 'i', value: '' },
        ],
      },
      replayCount: 0,
    };
    expect(parseDeadLetter(JSON.stringify(envelope))).toEqual(envelope);
  });

  const record = { topic: 't', partition: 0, offset: 1, key: null, value: null, timestamp: 1, headers: [] };
  const body = (fields: Record<string, unknown>, recordFields: Record<string, unknown> = {}) =>
    JSON.stringify({ version: 1, kind: 'kafka-dead-letter', replayCount: 0, ...fields, record: { ...record, ...recordFields } });

  it.each([
    ['null', 'the body is not a JSON object'],
    [body({ version: '1' }), 'unsupported envelope version "1" (this code reads version 1)'],
    [JSON.stringify({ version: 1, kind: 'kafka-dead-letter' }), '"record" must hold topic, partition and offset'],
    [JSON.stringify({ version: 1, kind: 'kafka-dead-letter', record: null }), '"record" must hold topic, partition and offset'],
    [body({}, { topic: 1 }), '"record" must hold topic, partition and offset'],
    [body({}, { partition: 0.5 }), '"record" must hold topic, partition and offset'],
    [body({}, { offset: '1' }), '"record" must hold topic, partition and offset'],
    [body({ kind: 'kafka-dead-letter-pointer' }), '"s3" must hold bucket and key'],
    [body({ kind: 'kafka-dead-letter-pointer', s3: { key: 'k' } }), '"s3" must hold bucket and key'],
    [body({ kind: 'kafka-dead-letter-pointer', s3: { bucket: 'b', key: 1 } }), '"s3" must hold bucket and key'],
    [body({ kind: undefined }), 'unknown kind undefined'],
    [body({}, { key: 'YQ==%' }), 'record.key and record.value must be base64 or null'],
    [body({}, { key: '%YQ==' }), 'record.key and record.value must be base64 or null'],
    [body({}, { key: 'YQ===' }), 'record.key and record.value must be base64 or null'],
    [body({}, { value: 'a-b' }), 'record.key and record.value must be base64 or null'],
    [body({}, { value: 3 }), 'record.key and record.value must be base64 or null'],
    [body({}, { value: undefined }), 'record.key and record.value must be base64 or null'],
    [body({}, { timestamp: '1' }), 'record.timestamp must be a number'],
    [body({}, { headers: undefined }), 'record.headers must be a list of {name, value: base64}'],
    [body({}, { headers: [null] }), 'record.headers must be a list of {name, value: base64}'],
    [body({}, { headers: [{ name: 'h', value: '!' }] }), 'record.headers must be a list of {name, value: base64}'],
    [body({}, { headers: [{ name: 'h', value: 'YQ==' }, { value: 'YQ==' }] }), 'record.headers must be a list of {name, value: base64}'],
    [body({ replayCount: undefined }), 'replayCount must be a whole number ≥ 0'],
    [body({ replayCount: 1.5 }), 'replayCount must be a whole number ≥ 0'],
  ])('refuses %s, saying why', (text, message) => {
    expect(() => parseDeadLetter(text)).toThrow(MalformedDeadLetterError);
    expect(() => parseDeadLetter(text)).toThrow(message);
  });

  it('shows a sender-written version or kind shortly, never a whole value', () => {
    const secret = 'card-4111111111111111-'.repeat(10);
    const record = { topic: 't', partition: 0, offset: 1 };
    expect(() => parseDeadLetter(JSON.stringify({ version: 1, kind: secret, record }))).toThrow(`unknown kind "${secret.slice(0, 64)}…"`);
    expect(() => parseDeadLetter(JSON.stringify({ version: { secret }, record }))).toThrow(
      'unsupported envelope version an object (this code reads version 1)',
    );
    expect(() => parseDeadLetter(JSON.stringify({ version: [secret], record }))).toThrow(
      'unsupported envelope version a list (this code reads version 1)',
    );
    // 64 characters are shown whole, null as null (not as an object).
    expect(() => parseDeadLetter(JSON.stringify({ version: 1, kind: 'k'.repeat(64), record }))).toThrow(`unknown kind "${'k'.repeat(64)}"`);
    expect(() => parseDeadLetter(JSON.stringify({ version: null, record }))).toThrow(
      'unsupported envelope version null (this code reads version 1)',
    );
  });

  it('names its error class', () => {
    expect(new MalformedDeadLetterError('m').name).toBe('MalformedDeadLetterError');
  });

  it.each([
    ['not json', 'the body is not JSON', []],
    ['42', 'the body is not a JSON object', []],
    ['{"version":2}', 'unsupported envelope version 2', ['version']],
    ['{"version":1,"record":{"topic":"t","partition":0}}', '"record" must hold topic, partition and offset', ['record']],
    [
      '{"version":1,"kind":"kafka-dead-letter-pointer","record":{"topic":"t","partition":0,"offset":1},"s3":{"bucket":"b"}}',
      '"s3" must hold bucket and key',
      ['s3'],
    ],
    ['{"version":1,"kind":"other","record":{"topic":"t","partition":0,"offset":1}}', 'unknown kind "other"', ['kind']],
    [
      '{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":"%%","value":null}}',
      'record.key and record.value must be base64 or null',
      ['record.key', 'record.value'],
    ],
    [
      '{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":null,"value":null}}',
      'record.timestamp must be a number',
      ['record.timestamp'],
    ],
    [
      '{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":null,"value":null,"timestamp":1,"headers":[{"name":1}]}}',
      'record.headers must be a list',
      ['record.headers'],
    ],
    [
      '{"version":1,"kind":"kafka-dead-letter","record":{"topic":"t","partition":0,"offset":1,"key":null,"value":null,"timestamp":1,"headers":[]},"replayCount":-1}',
      'replayCount must be a whole number ≥ 0',
      ['replayCount'],
    ],
  ] as Array<[string, string, string[]]>)('refuses %s, saying why', (text, message, fields) => {
    expect(() => parseDeadLetter(text)).toThrow(MalformedDeadLetterError);
    expect(() => parseDeadLetter(text)).toThrow(message);
    expect(() => parseDeadLetter(text)).toThrow(expect.objectContaining({ fields }));
  });
});
