// Property: whatever the queue or the bucket holds (dead letters of any topic, malformed bodies,
// objects of several records) and whichever topic-partitions Kafka refuses, the replay produces
// nothing outside REPLAY_ALLOWED_TOPICS, deletes nothing whose records were not all acknowledged,
// and accounts for every message it received.
import fc from 'fast-check';
import type { Producer, ProducerBatch } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../../src/kafka/kafka-headers.js';
import { OnFailureObjectReplayer } from '../../../src/replay/on-failure-objects.js';
import { DlqReplayer } from '../../../src/replay/replayer.js';
import type { ReplaySettings } from '../../../src/replay/request.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { buildKafkaEvent } from '../../../local/esm/lambda-event.js';
import { envelopes } from '../../support/dead-letter-transport.js';
import { fakeAws, sqsMessage } from '../../support/fake-aws.js';
import { anyText, headerName, propertyRuns } from '../../support/properties.js';

afterEach(() => vi.restoreAllMocks());

const TOPICS = ['orders', 'payments', '__proto__', 'internal'];
const topic = fc.constantFrom(...TOPICS);
const noDelay = new RetryPolicy({ maxAttempts: 2, baseDelayMs: 0, maxDelayMs: 0 });

/**
 * A producer that refuses the topic-partitions in `refused` ("topic/partition") and records what
 * it wrote. Like Kafka, a call over several partitions writes the others and still fails.
 */
function producerRefusing(refused: ReadonlySet<string>) {
  const written: Array<{ topic: string; partition: number | undefined; offset: string }> = [];
  const producer = {
    sendBatch: async (batch: ProducerBatch) => {
      const before = written.length;
      const all = batch.topicMessages!.flatMap((t) =>
        t.messages.map((m) => ({ topic: t.topic, partition: m.partition, offset: String(m.headers!['x-dlq-original-offset']) })),
      );
      written.push(...all.filter((m) => !refused.has(`${m.topic}/${m.partition}`)));
      if (written.length < all.length + before) throw new Error('NOT_LEADER_FOR_PARTITION');
      return [];
    },
  } as unknown as Producer;
  return { producer, written };
}

const settingsOf = (allowedTopics: string[], extra: Partial<ReplaySettings> = {}): ReplaySettings => ({
  source: 'dlq',
  maxMessages: 100,
  dryRun: false,
  filter: {},
  allowedTopics,
  ...extra,
});

describe('replay record path (property)', () => {
  it('from the queue: produces only allowed topics, deletes only what Kafka acknowledged, accounts for every message', async () => {
    const message = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          topic,
          partition: fc.integer({ min: 0, max: 2 }),
          replayCount: fc.integer({ min: 0, max: 4 }),
          headers: fc.array(fc.tuple(headerName, anyText(4)), { maxLength: 3 }),
        }),
      },
      { weight: 1, arbitrary: anyText(40).map((body) => ({ body })) },
    );
    const run = fc.record({
      messages: fc.array(message, { maxLength: 25 }),
      allowed: fc.subarray(TOPICS),
      refused: fc.uniqueArray(fc.tuple(topic, fc.integer({ min: 0, max: 2 })).map(([t, p]) => `${t}/${p}`)),
      targetTopic: fc.option(topic, { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ messages, allowed, refused, targetTopic }) => {
        const sqs = messages.map((m, i) => {
          if ('body' in m) return sqsMessage(m.body, i);
          const [e] = envelopes(1, m.topic);
          return sqsMessage(
            {
              ...e!,
              record: {
                ...e!.record,
                partition: m.partition,
                offset: i,
                headers: m.headers.map(([name, v]) => ({ name, value: Buffer.from(v).toString('base64') })),
              },
              replayCount: m.replayCount,
            },
            i,
          );
        });
        const aws = await fakeAws(sqs);
        const { producer, written } = producerRefusing(new Set(refused));
        const settings = settingsOf(allowed, targetTopic && allowed.includes(targetTopic) ? { targetTopic } : {});
        const summary = await new DlqReplayer({
          queueUrl: 'q',
          producer: async () => producer,
          replayLimit: 3,
          receivers: 2,
          retry: noDelay,
        }).run(settings, Date.now() + 60_000);

        expect(written.every((w) => allowed.includes(w.topic))).toBe(true);
        const deleted = aws.named('DeleteMessageBatch').flatMap((d) => d.Entries!.map((e) => Number(String(e.ReceiptHandle).slice(2))));
        const acknowledged = new Set(written.map((w) => Number(w.offset)));
        expect(deleted.filter((i) => !acknowledged.has(i))).toEqual([]);
        // …and every record Kafka acknowledged is deleted: none left to be replayed twice.
        expect([...acknowledged].filter((i) => !deleted.includes(i))).toEqual([]);
        expect(summary.received).toBe(messages.length);
        expect(summary.replayed + summary.skipped + summary.failed).toBe(messages.length);
        expect(summary.replayed).toBe(written.length);
        // …and nothing is left that could have been replayed: header names such as `__proto__` included.
        const replayable = messages.flatMap((m, i) => {
          if ('body' in m) return [];
          const destination = settings.targetTopic ?? m.topic;
          const partition = destination === m.topic ? m.partition : undefined;
          return allowed.includes(destination) && m.replayCount < 3 && !refused.includes(`${destination}/${partition}`) ? [i] : [];
        });
        expect(replayable.filter((i) => !acknowledged.has(i))).toEqual([]);
      }),
      propertyRuns(),
    );
  });

  it('from S3: produces only allowed topics, and deletes an object only once Kafka acknowledged all its records', async () => {
    const object = fc.array(
      fc.record({
        topic,
        partition: fc.integer({ min: 0, max: 2 }),
        value: anyText(8),
        headers: fc.array(fc.tuple(headerName, anyText(4)), { maxLength: 2 }),
      }),
      { minLength: 1, maxLength: 4 },
    );
    const run = fc.record({
      objects: fc.array(fc.oneof({ weight: 5, arbitrary: object }, { weight: 1, arbitrary: anyText(30) }), { maxLength: 8 }),
      allowed: fc.subarray(TOPICS),
      refused: fc.uniqueArray(fc.tuple(topic, fc.integer({ min: 0, max: 2 })).map(([t, p]) => `${t}/${p}`)),
    });
    await fc.assert(
      fc.asyncProperty(run, async ({ objects, allowed, refused }) => {
        let offset = 0;
        const contents: Record<string, string> = {};
        const recordsOf = new Map<string, number[]>();
        objects.forEach((o, i) => {
          const key = `aws/lambda/uuid/${String(i).padStart(3, '0')}`;
          if (typeof o === 'string') {
            contents[`b/${key}`] = o;
            return;
          }
          const records = o.map((r) => ({ ...r, offset: offset++, headers: r.headers }));
          recordsOf.set(
            key,
            records.map((r) => r.offset),
          );
          contents[`b/${key}`] = JSON.stringify({ version: '1.0', payload: JSON.stringify(buildKafkaEvent(records)) });
        });
        const keys = Object.keys(contents)
          .map((k) => k.slice(2))
          .sort();
        const aws = await fakeAws([], contents, (call) =>
          call.name === 'ListObjectsV2' ? { Contents: keys.map((Key) => ({ Key })), IsTruncated: false } : undefined,
        );
        const { producer, written } = producerRefusing(new Set(refused));
        const summary = await new OnFailureObjectReplayer({
          bucket: 'b',
          producer: async () => producer,
          replayLimit: 3,
          retry: noDelay,
        }).run(settingsOf(allowed, { source: 's3' }), Date.now() + 60_000);

        expect(written.every((w) => allowed.includes(w.topic))).toBe(true);
        const acknowledged = new Set(written.map((w) => Number(w.offset)));
        for (const { Key } of aws.named('DeleteObject') as Array<{ Key: string }>) {
          expect(recordsOf.get(Key)?.every((o) => acknowledged.has(o))).toBe(true);
        }
        expect(summary.objects!.received).toBe(objects.length);
        expect(summary.objects!.replayed + summary.objects!.skipped + summary.objects!.failed).toBe(objects.length);
      }),
      propertyRuns(),
    );
  });
});
