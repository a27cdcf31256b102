import { afterEach, describe, expect, it, vi } from 'vitest';
import { countDeadLetter, countOnFailureObject, emptyContents } from '../../../src/replay/dry-run-report.js';
import { parseOnFailureObject } from '../../../src/replay/on-failure-objects.js';
import { buildKafkaEvent } from '../../../local/esm/lambda-event.js';
import { DlqReplayer } from '../../../src/replay/replayer.js';
import type { ReplaySettings } from '../../../src/replay/request.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { envelopes } from '../../support/dead-letter-transport.js';
import { fakeAws, sqsMessage } from '../../support/fake-aws.js';

afterEach(() => vi.restoreAllMocks());

const NOW = Date.parse('2026-12-07T12:00:00Z');
const HOUR = 3_600_000;
const letter = (topic: string, type: string) => ({ ...envelopes(1, topic)[0]!, error: { type, message: 'm' } });
const sentAt = (ms: number) => sqsMessage('{}', 0, { SentTimestamp: String(ms) });

describe('what a dry run counts of the queue', () => {
  it('counts by topic and error type, in null-prototype objects (any string is a name)', () => {
    const contents = emptyContents();
    for (const [topic, type] of [
      ['orders', 'TimeoutError'],
      ['orders', '__proto__'],
      ['payments', 'TimeoutError'],
      ['constructor', 'toString'],
    ])
      countDeadLetter(contents, sentAt(NOW), letter(topic!, type!), NOW);
    expect({ ...contents.byTopic }).toEqual({ orders: 2, payments: 1, constructor: 1 });
    expect(Object.entries(contents.byErrorType)).toEqual([
      ['TimeoutError', 2],
      ['__proto__', 1],
      ['toString', 1],
    ]);
  });

  it('counts by age since the first enqueue (dlqFirstSentAt of a re-enqueued one, else SentTimestamp), and names the oldest', () => {
    const contents = emptyContents();
    countDeadLetter(contents, sentAt(NOW - HOUR + 1), letter('a', 'E1'), NOW);
    countDeadLetter(contents, sentAt(NOW - HOUR), letter('a', 'E2'), NOW);
    countDeadLetter(contents, sentAt(NOW - 7 * 24 * HOUR + 1), letter('a', 'E3'), NOW);
    const renewed = {
      ...sentAt(NOW - 1),
      MessageAttributes: { dlqFirstSentAt: { DataType: 'Number', StringValue: String(NOW - 8 * 24 * HOUR) } },
    };
    countDeadLetter(contents, renewed, { ...letter('b', 'E4'), record: { ...letter('b', 'E4').record, partition: 3, offset: 77 } }, NOW);
    countDeadLetter(contents, sentAt(NOW - 24 * HOUR), letter('a', 'E5'), NOW);
    expect(contents.byAge).toEqual({ underHour: 1, underDay: 1, underWeek: 2, older: 1 });
    expect(contents.oldest).toEqual({
      enqueuedAt: new Date(NOW - 8 * 24 * HOUR).toISOString(),
      topic: 'b',
      partition: 3,
      offset: 77,
      errorType: 'E4',
    });
  });

  it('takes a time that is not one (anyone may send an attribute) as now, and does not throw', () => {
    const contents = emptyContents();
    const odd = { ...sentAt(NOW), MessageAttributes: { dlqFirstSentAt: { DataType: 'Number', StringValue: 'soon' } } };
    countDeadLetter(contents, odd, letter('a', 'E'), NOW);
    expect(contents.byAge.underHour).toBe(1);
    expect(contents.oldest?.enqueuedAt).toBe(new Date(NOW).toISOString());
  });

  it('is in the summary of a dry run from the queue, whatever the filter, and of no other run', async () => {
    const messages = () => [letter('a', 'E1'), letter('a', 'E2'), letter('b', 'E1')].map((e, i) => sqsMessage(e, i));
    const settings = (s: Partial<ReplaySettings>): ReplaySettings => ({
      source: 'dlq',
      maxMessages: 100,
      dryRun: false,
      filter: {},
      allowedTopics: ['a', 'b'],
      ...s,
    });
    const producer = { sendBatch: async () => [] };
    const replayer = () =>
      new DlqReplayer({
        queueUrl: 'https://sqs/dlq',
        producer: async () => producer as never,
        replayLimit: 3,
        receivers: 1,
        retry: new RetryPolicy({ maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 }),
      });
    await fakeAws(messages());
    const dry = await replayer().run(settings({ dryRun: true, filter: { topic: 'a' } }), Date.now() + 60_000);
    expect({ replayed: dry.replayed, skipped: dry.skipped }).toEqual({ replayed: 2, skipped: 1 });
    expect({ ...dry.contents!.byTopic }).toEqual({ a: 2, b: 1 });
    expect({ ...dry.contents!.byErrorType }).toEqual({ E1: 2, E2: 1 });
    vi.restoreAllMocks();
    await fakeAws(messages());
    expect(await replayer().run(settings({}), Date.now() + 60_000)).not.toHaveProperty('contents');
  });

  it("counts the records of an S3 on-failure object by topic, by the condition Lambda gave up with, and by the object's age", () => {
    const body = (condition: unknown, timestamp: unknown, topics: string[]) =>
      JSON.stringify({
        requestContext: { condition },
        timestamp,
        version: '1.0',
        payload: JSON.stringify(
          buildKafkaEvent(topics.map((topic, offset) => ({ topic, partition: 1, offset, timestamp: 0, key: null, value: 'v' }))),
        ),
      });
    const contents = emptyContents();
    for (const b of [
      body('RetryAttemptsExhausted', new Date(NOW - 2 * HOUR).toISOString(), ['orders', 'orders', 'payments']),
      body('MaximumPayloadSizeExceeded', new Date(NOW - 8 * 24 * HOUR).toISOString(), ['orders']),
      body(42, 'yesterday', ['payments']), // not as Lambda writes them: an unknown condition, written now
    ])
      countOnFailureObject(contents, b, parseOnFailureObject(b), NOW);
    expect({ ...contents.byTopic }).toEqual({ orders: 3, payments: 2 });
    expect({ ...contents.byErrorType }).toEqual({ RetryAttemptsExhausted: 3, MaximumPayloadSizeExceeded: 1, 'unknown condition': 1 });
    expect(contents.byAge).toEqual({ underHour: 1, underDay: 3, underWeek: 0, older: 1 });
    expect(contents.oldest).toEqual({
      enqueuedAt: new Date(NOW - 8 * 24 * HOUR).toISOString(),
      topic: 'orders',
      partition: 1,
      offset: 0,
      errorType: 'MaximumPayloadSizeExceeded',
    });
  });
});
