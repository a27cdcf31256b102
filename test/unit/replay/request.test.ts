import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../../src/contract/errors.js';
import type { ReplayRequestError } from '../../../src/replay/errors.js';
import { allowedTopicsFrom, MAX_MESSAGES_LIMIT, parseReplayRequest, replayLimitFrom } from '../../../src/replay/request.js';

const topics = ['orders', 'payments'];
const rejects = (payload: unknown, message: string, allowed: readonly string[] = topics) =>
  expect(() => parseReplayRequest(payload, allowed)).toThrow(expect.objectContaining({ name: 'ReplayRequestError', message }));

describe('parseReplayRequest', () => {
  it('fills the documented defaults for an empty or missing payload', () => {
    const defaults = { source: 'dlq', maxMessages: 100, dryRun: false, filter: {}, allowedTopics: topics };
    expect(parseReplayRequest(undefined, topics)).toEqual(defaults);
    expect(parseReplayRequest(null, topics)).toEqual(defaults);
    expect(parseReplayRequest({}, topics)).toEqual(defaults);
    expect(parseReplayRequest({}, topics)).not.toHaveProperty('targetTopic');
    expect(parseReplayRequest({ source: 's3' }, topics)).not.toHaveProperty('startAfter');
  });

  it('passes every field it accepts through', () => {
    expect(
      parseReplayRequest(
        { source: 'dlq', maxMessages: 7, dryRun: true, targetTopic: 'payments', filter: { topic: 'orders', errorType: 'TimeoutError' } },
        topics,
      ),
    ).toEqual({
      source: 'dlq',
      maxMessages: 7,
      dryRun: true,
      targetTopic: 'payments',
      filter: { topic: 'orders', errorType: 'TimeoutError' },
      allowedTopics: topics,
    });
    expect(parseReplayRequest({ source: 's3', startAfter: 'aws/lambda/u/k' }, topics)).toMatchObject({
      source: 's3',
      startAfter: 'aws/lambda/u/k',
    });
  });

  it('accepts maxMessages from 1 to 10,000 and names anything else', () => {
    expect(parseReplayRequest({ maxMessages: 1 }, topics).maxMessages).toBe(1);
    expect(parseReplayRequest({ maxMessages: MAX_MESSAGES_LIMIT }, topics).maxMessages).toBe(10_000);
    for (const bad of [0, -1, 10_001, 1.5, '10', null]) {
      rejects({ maxMessages: bad }, `maxMessages must be a whole number from 1 to 10000, got ${JSON.stringify(bad)}.`);
    }
  });

  it('names the request fields at fault in `fields`, none when the payload as a whole is', () => {
    const fieldsOf = (payload: unknown) => {
      try {
        parseReplayRequest(payload, topics);
      } catch (error) {
        return (error as ReplayRequestError).fields;
      }
      throw new Error('accepted');
    };
    expect(
      [
        'replay',
        { maxMessage: 5, dry: true },
        { source: 'sqs' },
        { maxMessages: 0 },
        { dryRun: 1 },
        { targetTopic: 'other' },
        { filter: [] },
        { filter: { topic: 1 } },
        { filter: { errorType: '' } },
        { startAfter: 'k' },
        { source: 's3', startAfter: '' },
        { source: 's3', filter: { errorType: 'E' } },
      ].map(fieldsOf),
    ).toEqual([
      [],
      ['maxMessage', 'dry'],
      ['source'],
      ['maxMessages'],
      ['dryRun'],
      ['targetTopic'],
      ['filter'],
      ['filter.topic'],
      ['filter.errorType'],
      ['startAfter'],
      ['startAfter'],
      ['filter.errorType'],
    ]);
  });

  it('refuses a payload that is not a JSON object', () => {
    for (const bad of ['replay', 5, true, [], [{ maxMessages: 1 }]]) {
      rejects(bad, 'The payload must be a JSON object like {"maxMessages": 100, "dryRun": true}.');
    }
  });

  it('names unknown fields and lists the allowed ones', () => {
    rejects(
      { maxMessage: 5, dry: true, dryRun: true },
      'Unknown field(s) maxMessage, dry; allowed: source, maxMessages, dryRun, targetTopic, filter, startAfter.',
    );
  });

  // Issue 28, class 9: an empty filter string is falsy, so it matched every dead letter.
  it('refuses an empty filter.topic or filter.errorType, saying to name one or leave it out', () => {
    rejects({ filter: { topic: '' } }, 'filter.topic is empty; name a topic, or leave filter.topic out to replay them all.');
    rejects(
      { filter: { errorType: '' } },
      'filter.errorType is empty; name an error type, or leave filter.errorType out to replay them all.',
    );
  });

  it('takes startAfter for source "s3" only, as a key', () => {
    rejects({ startAfter: 'k' }, 'startAfter is for source "s3" only (a queue has no keys to list after); remove it.');
    for (const bad of ['', 5, null])
      rejects(
        { source: 's3', startAfter: bad },
        `startAfter must be an object key (the objects.lastKey of a previous run's summary), got ${JSON.stringify(bad)}.`,
      );
  });

  it('refuses a dryRun that is not a boolean', () => {
    rejects({ dryRun: 'yes' }, 'dryRun must be true or false, got "yes".');
    rejects({ dryRun: 1 }, 'dryRun must be true or false, got 1.');
  });

  it('accepts only a target topic the stack consumes, and says how to configure one when none is', () => {
    rejects({ targetTopic: 'audit' }, 'targetTopic "audit" is not one of the topics this stack consumes (orders, payments).');
    rejects({ targetTopic: 5 }, 'targetTopic 5 is not one of the topics this stack consumes (orders, payments).');
    rejects(
      { targetTopic: 'orders' },
      'targetTopic "orders" is not one of the topics this stack consumes (none configured: set REPLAY_ALLOWED_TOPICS).',
      [],
    );
  });

  it('accepts a filter with string topic and errorType only', () => {
    expect(parseReplayRequest({ filter: { topic: 'orders' } }, topics).filter).toEqual({ topic: 'orders' });
    expect(parseReplayRequest({ filter: { errorType: 'Error' } }, topics).filter).toEqual({ errorType: 'Error' });
    const shape = 'filter must be an object with optional string fields "topic" and "errorType".';
    for (const bad of [null, 5, true, 'orders', ['orders'], { topic: 'orders', partition: 0 }]) rejects({ filter: bad }, shape);
    rejects({ filter: { topic: 3 } }, 'filter.topic must be a string, got 3.');
    rejects({ filter: { errorType: null } }, 'filter.errorType must be a string, got null.');
  });
});

describe('parseReplayRequest, source', () => {
  it('reads the S3 on-failure destination with source "s3", keeping the fields that mean the same there', () => {
    expect(
      parseReplayRequest({ source: 's3', maxMessages: 3, dryRun: true, targetTopic: 'payments', filter: { topic: 'orders' } }, topics),
    ).toEqual({
      source: 's3',
      maxMessages: 3,
      dryRun: true,
      targetTopic: 'payments',
      filter: { topic: 'orders' },
      allowedTopics: topics,
    });
  });

  it('names a source that is neither "dlq" nor "s3", and the allowed ones', () => {
    for (const bad of ['kafka', 'S3', '', 1, null])
      rejects({ source: bad }, `source must be one of "dlq", "s3", got ${JSON.stringify(bad)}.`);
  });

  it('refuses filter.errorType with source "s3": an on-failure object has no error per record', () => {
    rejects(
      { source: 's3', filter: { errorType: 'TimeoutError' } },
      'filter.errorType has no equivalent for source "s3": an on-failure object records why Lambda gave up on the whole batch, not an error per record. Remove it, or filter by topic.',
    );
  });
});

describe('allowedTopicsFrom', () => {
  it('reads REPLAY_ALLOWED_TOPICS as a comma-separated list, blanks dropped', () => {
    expect(() => allowedTopicsFrom({})).toThrow('REPLAY_ALLOWED_TOPICS is not set: the replay produces only to the topics it names');
    expect(() => allowedTopicsFrom({ REPLAY_ALLOWED_TOPICS: ' , ' })).toThrow(ConfigurationError);
    expect(allowedTopicsFrom({ REPLAY_ALLOWED_TOPICS: ' orders, payments ,,audit ' })).toEqual(['orders', 'payments', 'audit']);
  });
});

describe('replayLimitFrom', () => {
  it('defaults to 3 and accepts any whole number from 1', () => {
    expect(replayLimitFrom({})).toBe(3);
    expect(replayLimitFrom({ REPLAY_MAX_COUNT: '1' })).toBe(1);
    expect(replayLimitFrom({ REPLAY_MAX_COUNT: '12' })).toBe(12);
  });

  it('names REPLAY_MAX_COUNT and its value when it is not a whole number ≥ 1', () => {
    for (const bad of ['0', '-2', '1.5', 'three', '']) {
      expect(() => replayLimitFrom({ REPLAY_MAX_COUNT: bad })).toThrow(
        expect.objectContaining({ name: 'ConfigurationError', message: `REPLAY_MAX_COUNT must be a whole number ≥ 1, got "${bad}".` }),
      );
    }
  });
});
