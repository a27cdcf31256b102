import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import type { KafkaEvent } from '../../src/runtime/event.js';
import { EventSourceMappingEmulator, type Handler } from '../../local/esm/emulator.js';
import { MAX_PAYLOAD_BYTES } from '../../local/esm/invocation-batcher.js';
import { recordingDestination } from '../support/on-failure.js';
import type { MappingSettings } from '../../src/mapping/mapping-settings.js';
import { produce, uniqueTopic } from '../support/kafka.js';
import { kafkaConsumer, NonRetryableError, type KafkaRecord } from '../../src/runtime/index.js';
import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { startFaultProxy } from '../../local/fault-proxy.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';

const env = inject('localEnv');
const CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:111122223333:cluster/e2e/11111111-2222-3333-4444-555555555555-1';
const running: EventSourceMappingEmulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

async function emulate(
  topic: string,
  handler: Handler,
  settings: Partial<MappingSettings> = {},
  extra: { functionTimeoutMs?: number; sessionTimeoutMs?: number; enabled?: boolean } = {},
) {
  const { destination, records: failures } = recordingDestination();
  const emulator = new EventSourceMappingEmulator({
    kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }),
    topic,
    bootstrapServers: env.KAFKA_BROKERS,
    handler,
    retryDelayMs: 50,
    eventSourceArn: CLUSTER_ARN,
    settings: { topics: [topic], batchSize: 50, maxBatchingWindowSeconds: 0, ...settings },
    onFailure: destination,
    ...extra,
  });
  running.push(emulator);
  await emulator.start();
  return { emulator, failures };
}
const until = async (done: () => boolean, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    const stopped = running.find((e) => e.error);
    if (stopped) throw stopped.error;
    if (Date.now() > end) throw new Error('timed out waiting for the emulator');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};
const offsetsOf = (event: KafkaEvent) =>
  Object.values(event.records)
    .flat()
    .map((r) => `${r.partition}@${r.offset}`);

describe('event source mapping emulator', () => {
  it('delivers every record, redelivers a partition from the offset the response names, and leaves others committed', async () => {
    const topic = uniqueTopic('e2e-partial');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ i }), partition: i % 4 })),
    );
    const seen: string[] = [];
    const functionNames = new Set<string>();
    let reported = false;
    const { emulator } = await emulate(topic, async (e, context) => {
      const event = e as KafkaEvent;
      seen.push(...offsetsOf(event));
      functionNames.add(context.functionName);
      const p1 = event.records[`${topic}-1`];
      if (!reported && p1 && p1.length > 3) {
        reported = true;
        return { batchItemFailures: [{ itemIdentifier: { partition: `${topic}-1`, offset: p1[2]!.offset } }] };
      }
      return { batchItemFailures: [] };
    });
    await until(() => emulator.stats.decided >= 200);
    for (let p = 0; p < 4; p++) expect(emulator.stats.outcomes.get(`${topic}-${p}`)!.size).toBe(50);
    const counts = new Map<string, number>();
    for (const o of seen) counts.set(o, (counts.get(o) ?? 0) + 1);
    const twice = [...counts].filter(([, n]) => n > 1).map(([o]) => o);
    expect(twice.length).toBeGreaterThan(0);
    expect(twice.every((o) => o.startsWith('1@'))).toBe(true); // only partition 1 came again
    expect(emulator.stats.duplicates).toBe(0);
    expect(emulator.stats.redelivered).toBe(twice.length);
    expect([...functionNames]).toEqual(['consumer']); // the context's name when none is given
  });

  it('treats an invalid identifier as a whole-batch failure, retries, bisects, and sends the poison batch to the on-failure queue', async () => {
    const topic = uniqueTopic('e2e-bisect');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      Array.from({ length: 8 }, (_, i) => ({ value: i === 5 ? 'poison' : 'ok', partition: 0 })),
    );
    const sizes: number[] = [];
    const { emulator, failures } = await emulate(
      topic,
      async (e) => {
        const records = Object.values((e as KafkaEvent).records).flat();
        sizes.push(records.length);
        if (records.some((r) => Buffer.from(r.value as string, 'base64').toString() === 'poison')) {
          return { batchItemFailures: [{ itemIdentifier: { partition: 'nope-0', offset: 1 } }] };
        }
        return {};
      },
      { retryAttempts: 3, bisectBatchOnError: true },
    );
    await until(() => emulator.stats.decided >= 8);
    expect(sizes[0]).toBe(8);
    expect(sizes).toContain(1);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(failures[0]!.KafkaBatchInfo.recordsInfo[`${topic}-0`]).toMatchObject({ firstRecordOffset: '5', lastRecordOffset: '5' });
    expect(emulator.stats.discarded).toBe(1);
    expect(emulator.stats.processed).toBe(7);
  });

  // A bisected batch's halves each answer for their own records: the partition is redelivered
  // from the lowest offset either half reported, so no failed record is committed.
  it('redelivers a bisected batch from the lowest offset its halves reported', async () => {
    const topic = uniqueTopic('e2e-bisect-partial');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1, 2, 3].map((i) => ({ value: String(i), partition: 0 })),
    );
    const batches: string[][] = [];
    const { emulator } = await emulate(
      topic,
      async (e) => {
        const offsets = offsetsOf(e as KafkaEvent);
        batches.push(offsets);
        if (batches.length === 1) throw new Error('the whole batch fails once');
        // Each half reports its last record: 0@1 and 0@3.
        if (batches.length <= 3)
          return { batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: Number(offsets.at(-1)!.split('@')[1]) } }] };
        return { batchItemFailures: [] };
      },
      { retryAttempts: 2, bisectBatchOnError: true },
    );
    await until(() => emulator.stats.decided === 4);
    expect(batches).toEqual([
      ['0@0', '0@1', '0@2', '0@3'],
      ['0@0', '0@1'],
      ['0@2', '0@3'],
      ['0@1', '0@2', '0@3'],
    ]);
  });

  it('discards records past maxRecordAge instead of retrying them forever', async () => {
    const topic = uniqueTopic('e2e-age');
    const kafka = await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { value: 'old', partition: 0, timestamp: String(Date.now() - 120_000) },
        { value: 'new', partition: 0 },
      ],
    });
    await producer.disconnect();
    const seen: string[] = [];
    const { emulator, failures } = await emulate(
      topic,
      async (e) => {
        seen.push(...offsetsOf(e as KafkaEvent));
        return { batchItemFailures: [] };
      },
      { maxRecordAgeSeconds: 60 },
    );
    await until(() => emulator.stats.decided >= 2);
    // "The maximum age of a record that Lambda sends to a function" (CloudFormation,
    // MaximumRecordAgeInSeconds): an older record never reaches the function; a younger one does.
    expect(seen).toEqual(['0@1']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      requestContext: {
        condition: 'MaximumRecordAgeExceeded',
        approximateInvokeCount: 0,
        functionArn: expect.stringMatching(/:function:consumer:\$LATEST$/),
      },
      responseContext: null,
      version: '1.0',
      KafkaBatchInfo: {
        batchSize: 1,
        eventSourceArn: CLUSTER_ARN,
        bootstrapServers: env.KAFKA_BROKERS,
        recordsInfo: { [`${topic}-0`]: { firstRecordOffset: '0', lastRecordOffset: '0' } },
      },
    });
    expect(failures[0]!.KafkaBatchInfo.payloadSize).toBeGreaterThan(100);
    expect(failures[0]!.KafkaBatchInfo).not.toHaveProperty('consumerGroupId');
  });

  // Lambda guide, Kafka retry configurations: with MaximumRetryAttempts -1 (infinite) and an
  // on-failure destination, Lambda stops after 10 retries and sends the batch's metadata on.
  it('caps infinite retries at 10 when there is an on-failure destination, and sends the record Lambda sends', async () => {
    const topic = uniqueTopic('e2e-cap10');
    await produce(env.KAFKA_BROKERS, topic, [{ value: 'x', partition: 0 }]);
    const { emulator, failures } = await emulate(topic, async () => {
      throw new Error('always');
    });
    await until(() => emulator.stats.decided >= 1);
    expect(emulator.stats.invocations).toBe(11);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11 },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    });
  });

  // docs/aws-contracts.md §2: with ReportBatchItemFailures off, Lambda ignores batchItemFailures and commits.
  // Lambda guide, "Event filtering with Kafka event sources": records that match no filter are
  // not sent to the function, and Lambda commits their offsets. Filters are ORed; `value` is
  // matched as JSON (docs/aws-contracts.md).
  it('sends only the records the filters match, and commits the others without invoking', async () => {
    const topic = uniqueTopic('e2e-filters');
    const kinds = ['order', 'refund', 'order', 'audit'];
    await produce(
      env.KAFKA_BROKERS,
      topic,
      Array.from({ length: 40 }, (_, i) => ({
        key: `k${i}`,
        value: i % 10 === 9 ? 'not json' : JSON.stringify({ kind: kinds[i % 4], i }),
        partition: i % 2,
      })),
    );
    const seen: Array<{ kind: string; i: number }> = [];
    const { emulator } = await emulate(
      topic,
      async (e) => {
        for (const r of Object.values((e as KafkaEvent).records).flat())
          seen.push(JSON.parse(Buffer.from(String(r.value), 'base64').toString()) as { kind: string; i: number });
        return { batchItemFailures: [] };
      },
      {
        filters: [
          { pattern: JSON.stringify({ value: { kind: ['order'] } }) },
          { pattern: JSON.stringify({ value: { kind: ['audit'], i: [{ numeric: ['<', 20] }] } }) },
        ],
      },
    );
    const expected = Array.from({ length: 40 }, (_, i) => i).filter(
      (i) => i % 10 !== 9 && (kinds[i % 4] === 'order' || (kinds[i % 4] === 'audit' && i < 20)),
    );
    const admin = (await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS })).admin();
    await admin.connect();
    try {
      const committed = async () => {
        const [t] = await admin.fetchOffsets({ groupId: emulator.groupId, topics: [topic] });
        return (t?.partitions ?? []).map((p) => Number(p.offset)).reduce((a, b) => a + Math.max(0, b), 0);
      };
      await until(() => seen.length >= expected.length);
      let total = await committed();
      for (const end = Date.now() + 30_000; total < 40 && Date.now() < end; total = await committed())
        await new Promise((r) => setTimeout(r, 100));
      expect(total).toBe(40); // every offset committed, the filtered ones included
    } finally {
      await admin.disconnect();
    }
    expect(seen.map((v) => v.i).sort((a, b) => a - b)).toEqual(expected);
    expect(emulator.stats.filtered).toBe(40 - expected.length);
    expect(emulator.stats.invocations).toBeGreaterThan(0);
  });

  it('commits a fetch that no filter matches once, and reads past it', async () => {
    const topic = uniqueTopic('e2e-all-filtered');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ kind: 'refund', i }), partition: 0 })),
    );
    let invoked = 0;
    const { emulator } = await emulate(
      topic,
      async () => {
        invoked++;
        return { batchItemFailures: [] };
      },
      { filters: [{ pattern: JSON.stringify({ value: { kind: ['order'] } }) }] },
    );
    // Committed past the last of them (offset 10, a lag of 0), not just read past.
    await until(() => emulator.stats.filtered >= 10 && emulator.stats.offsetLag === 0);
    await produce(env.KAFKA_BROKERS, topic, [{ key: 'k10', value: JSON.stringify({ kind: 'order', i: 10 }), partition: 0 }]);
    await until(() => invoked === 1 && emulator.stats.decided === 1);
    expect(emulator.stats.filtered).toBe(10); // each filtered record counted once: the fetch was not read again
  });

  it('ignores a partial response when the mapping has partial responses off, and counts what that loses', async () => {
    const topic = uniqueTopic('e2e-ignored');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      Array.from({ length: 4 }, (_, i) => ({ value: String(i), partition: 0 })),
    );
    const { emulator } = await emulate(
      topic,
      async () => ({ batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 2 } }] }),
      { reportBatchItemFailures: false },
    );
    await until(() => emulator.stats.decided >= 4);
    expect(emulator.stats.invocations).toBe(1);
    expect(emulator.stats.lost).toBe(2);
    expect(emulator.stats.processed).toBe(2);
  });

  it('keeps each invocation under the 6 MB payload cap', async () => {
    const topic = uniqueTopic('e2e-cap');
    const big = 'x'.repeat(900_000);
    await produce(
      env.KAFKA_BROKERS,
      topic,
      Array.from({ length: 10 }, () => ({ value: big, partition: 0 })),
    );
    const payloads: number[] = [];
    const { emulator } = await emulate(topic, async (e) => void payloads.push(Buffer.byteLength(JSON.stringify(e))), { batchSize: 100 });
    await until(() => emulator.stats.decided >= 10);
    expect(payloads.length).toBeGreaterThan(1);
    expect(Math.max(...payloads)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  // Lambda guide, MSK on-failure destinations: a record larger than the invoke payload limit
  // goes to the destination as MaximumPayloadSizeExceeded, with a null responseContext.
  it('sends a single record over 6 MB to the on-failure destination without invoking', async () => {
    const topic = uniqueTopic('e2e-oversized');
    const kafka = await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    // Header bytes are numbers in the event's JSON ("255," each): 1.3 MB of them is over 5 MB.
    const header = Buffer.alloc(1_300_000, 255);
    await producer.send({
      topic,
      acks: -1,
      messages: [
        { value: 'x'.repeat(1_200_000), headers: { big: header }, partition: 0 },
        { value: 'small', partition: 0 },
      ],
    });
    await producer.disconnect();
    const seen: string[] = [];
    const { emulator, failures } = await emulate(topic, async (e) => void seen.push(...offsetsOf(e as KafkaEvent)));
    await until(() => emulator.stats.decided >= 2);
    expect(seen).toEqual(['0@1']);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      requestContext: { condition: 'MaximumPayloadSizeExceeded', approximateInvokeCount: 0 },
      responseContext: null,
      KafkaBatchInfo: { batchSize: 1 },
    });
    expect(failures[0]!.KafkaBatchInfo.payloadSize).toBeGreaterThan(MAX_PAYLOAD_BYTES);
  });

  it('starts a new group at LATEST: records produced before it joined never reach the function', async () => {
    const topic = uniqueTopic('e2e-latest');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1, 2].map((i) => ({ value: `old-${i}`, partition: 0 })),
    );
    const seen: string[] = [];
    const { emulator } = await emulate(
      topic,
      async (e) => {
        for (const r of (e as KafkaEvent).records[`${topic}-0`] ?? []) seen.push(Buffer.from(String(r.value), 'base64').toString());
        return { batchItemFailures: [] };
      },
      { startingPosition: 'LATEST' },
    );
    // Until it has joined, a record produced now may land before its starting offset: produce
    // new ones until one arrives.
    for (let i = 0; seen.length === 0; i++) {
      await produce(env.KAFKA_BROKERS, topic, [{ value: `new-${i}`, partition: 0 }]);
      await until(() => seen.length > 0, 500).catch(() => undefined);
    }
    expect(seen.filter((v) => v.startsWith('old-'))).toEqual([]);
    expect(emulator.stats.processed).toBe(seen.length);
  });

  it('waits out the batching window for a batch that is not full, and invokes at once when batchSize is reached', async () => {
    const topic = uniqueTopic('e2e-window');
    await produce(env.KAFKA_BROKERS, topic, [{ value: 'first', partition: 0 }]);
    const invoked: Array<{ at: number; size: number }> = [];
    const { emulator } = await emulate(
      topic,
      async (e) => {
        invoked.push({ at: Date.now(), size: Object.values((e as KafkaEvent).records).flat().length });
        return { batchItemFailures: [] };
      },
      { batchSize: 5, maxBatchingWindowSeconds: 2 },
    );
    await until(() => emulator.stats.decided >= 1);
    // Two more, once it consumes: the batch waits for more until the 2 s window closes (a lower
    // bound, which a slow machine cannot break: the window opens only once they were fetched).
    const producedAt = Date.now();
    await produce(env.KAFKA_BROKERS, topic, [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
    ]);
    await until(() => emulator.stats.decided >= 3);
    expect(invoked.map((i) => i.size)).toEqual([1, 2]);
    expect(invoked[1]!.at - producedAt).toBeGreaterThanOrEqual(2_000);
    // Five records fill the batch: no waiting for a window, however long.
    const fullTopic = uniqueTopic('e2e-window-full');
    await produce(
      env.KAFKA_BROKERS,
      fullTopic,
      [1, 2, 3, 4, 5].map((i) => ({ value: String(i), partition: 0 })),
    );
    const { emulator: full } = await emulate(fullTopic, async () => ({ batchItemFailures: [] }), {
      batchSize: 5,
      maxBatchingWindowSeconds: 300,
    });
    await until(() => full.stats.decided >= 5, 60_000);
    expect(full.stats.invocations).toBe(1);
  });

  // As when the mapping's pollers restart: what was fetched but not invoked is not committed, so
  // the group's next member delivers it; the offset lag counts it until then.
  it('stops with fetches waiting without invoking or committing them, and the next member of the group delivers them', async () => {
    const topic = uniqueTopic('e2e-stop');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 0, 0, 1, 1].map((partition, i) => ({ value: String(i), partition })),
    );
    // The embedded broker holds a rebalance open for the session timeout (less a second).
    const quickRebalance = { sessionTimeoutMs: 6_000 };
    const first = await emulate(topic, async () => ({ batchItemFailures: [] }), { maxBatchingWindowSeconds: 300 }, quickRebalance);
    await until(() => first.emulator.stats.offsetLag === 5); // both partitions fetched, waiting for the window
    running.splice(running.indexOf(first.emulator), 1);
    await first.emulator.stop();
    expect(first.emulator.stats.invocations).toBe(0);
    // A stopped emulator's consumer would join the group and ignore what it fetched: it stays stopped.
    await expect(first.emulator.start()).rejects.toThrow(
      `This event source mapping emulator for ${topic} was stopped: create a new EventSourceMappingEmulator to consume again`,
    );
    const seen: string[] = [];
    const { emulator: next } = await emulate(
      topic,
      async (e) => {
        seen.push(...offsetsOf(e as KafkaEvent));
        return { batchItemFailures: [] };
      },
      {},
      quickRebalance,
    );
    await until(() => next.stats.decided === 5 && next.stats.offsetLag === 0);
    expect(seen.sort()).toEqual(['0@0', '0@1', '0@2', '1@0', '1@1']);
  });

  // A stop during a delivery of several invocations (a fetch larger than batchSize): the one in
  // flight finishes and is committed, the rest are not invoked and stay for the next member.
  it('stops between the invocations of one fetch, committing only what was decided', async () => {
    const topic = uniqueTopic('e2e-stop-mid-fetch');
    const quickRebalance = { sessionTimeoutMs: 6_000 };
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1, 2].map((i) => ({ value: String(i), partition: 0 })),
    );
    const stops: Array<Promise<void>> = [];
    const first = await emulate(
      topic,
      async (e) => {
        expect(offsetsOf(e as KafkaEvent)).toEqual(['0@0']);
        stops.push(first.emulator.stop());
        return { batchItemFailures: [] };
      },
      { batchSize: 1 },
      quickRebalance,
    );
    running.splice(running.indexOf(first.emulator), 1);
    await until(() => stops.length > 0);
    await Promise.all(stops);
    expect(first.emulator.stats.invocations).toBe(1);
    const seen: string[] = [];
    const { emulator: next } = await emulate(
      topic,
      async (e) => {
        seen.push(...offsetsOf(e as KafkaEvent));
        return { batchItemFailures: [] };
      },
      {},
      quickRebalance,
    );
    await until(() => next.stats.decided === 2);
    expect(seen).toEqual(['0@1', '0@2']);
  });

  /** Three records on partition 0; the first invocation sends `offset` back, once. What the function then saw, in order. */
  async function sentBackOnce(prefix: string, offset: number, settings: Partial<MappingSettings> = {}) {
    const topic = uniqueTopic(prefix);
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1, 2].map((i) => ({ value: String(i), partition: 0 })),
    );
    const seen: string[] = [];
    let reported = false;
    const { emulator } = await emulate(
      topic,
      async (e) => {
        seen.push(...offsetsOf(e as KafkaEvent));
        if (reported) return { batchItemFailures: [] };
        reported = true;
        return { batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset } }] };
      },
      settings,
    );
    await until(() => emulator.stats.decided === 3);
    return { seen, emulator };
  }

  it('redelivers the last record of a fetch when the response names it', async () => {
    const { seen } = await sentBackOnce('e2e-last-record', 2);
    expect(seen).toEqual(['0@0', '0@1', '0@2', '0@2']);
  });

  it("invokes none of a fetch's later batches for a partition an earlier one sent back, and redelivers it from there", async () => {
    // One fetch of 3 records, three invocations of 1: the first sends its record back.
    const { seen, emulator } = await sentBackOnce('e2e-rewound', 0, { batchSize: 1 });
    // Invoking 0@1 and 0@2 before the redelivery would hand them to the function twice.
    expect(seen).toEqual(['0@0', '0@0', '0@1', '0@2']);
    expect(emulator.stats.duplicates).toBe(0);
  });

  it('fetches nothing while paused, and carries on where it was once resumed', async () => {
    const topic = uniqueTopic('e2e-pause');
    await produce(env.KAFKA_BROKERS, topic, [{ value: 'before', partition: 0 }]);
    const { emulator } = await emulate(topic, async () => ({ batchItemFailures: [] }));
    await until(() => emulator.stats.decided === 1 && emulator.stats.offsetLag === 0);
    emulator.pause();
    await produce(env.KAFKA_BROKERS, topic, [{ value: 'during', partition: 0 }]);
    // An unpaused consumer takes a record within a fetch (100 ms); this allows it twenty.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(emulator.stats.invocations).toBe(1);
    emulator.resume();
    await until(() => emulator.stats.decided === 2);
    expect(emulator.stats.invocations).toBe(2);
  });

  // Disabling a mapping (UpdateEventSourceMapping Enabled=false) stops its pollers; enabling it
  // starts new ones, which read from the group's committed offsets (the outage breaker's pause).
  it('disabled, fetches nothing: the invocation in flight finishes, and what it sent back is read again once enabled', async () => {
    const topic = uniqueTopic('e2e-disable');
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1, 2].map((i) => ({ value: String(i), partition: 0 })),
    );
    const seen: string[] = [];
    let disabling: Promise<void> | undefined;
    const { emulator } = await emulate(
      topic,
      async (e) => {
        seen.push(...offsetsOf(e as KafkaEvent));
        if (disabling) return { batchItemFailures: [] };
        disabling = emulator.setEnabled(false);
        expect(emulator.state).toBe('Disabling');
        await new Promise((resolve) => setTimeout(resolve, 200)); // still in flight while the mapping disables
        return { batchItemFailures: [{ itemIdentifier: { partition: `${topic}-0`, offset: 1 } }] };
      },
      { batchSize: 3 },
      { sessionTimeoutMs: 6_000 },
    );
    await until(() => disabling !== undefined);
    await disabling;
    expect(emulator.state).toBe('Disabled');
    await produce(env.KAFKA_BROKERS, topic, [{ value: '3', partition: 0 }]);
    // An enabled mapping takes a record within a fetch (100 ms); this allows it twenty.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(seen).toEqual(['0@0', '0@1', '0@2']);
    await emulator.setEnabled(true);
    expect(emulator.state).toBe('Enabled');
    await until(() => seen.length === 6);
    expect(seen).toEqual(['0@0', '0@1', '0@2', '0@1', '0@2', '0@3']);
  });

  it('created disabled (enabled: false), invokes nothing until enabled', async () => {
    const topic = uniqueTopic('e2e-created-disabled');
    await produce(env.KAFKA_BROKERS, topic, [{ value: '0', partition: 0 }]);
    const { emulator } = await emulate(topic, async () => ({ batchItemFailures: [] }), {}, { enabled: false });
    expect(emulator.state).toBe('Disabled');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(emulator.stats.invocations).toBe(0);
    await emulator.setEnabled(true);
    await until(() => emulator.stats.decided === 1);
  });

  // Lambda guide, "Customizable consumer group ID" (docs.aws.amazon.com/lambda/latest/dg/
  // kafka-consumer-group-id.html): when the consumer group exists with committed offsets, Lambda
  // ignores StartingPosition and resumes from them.
  it('resumes a group with committed offsets from them, whatever its starting position (AT_TIMESTAMP here)', async () => {
    const topic = uniqueTopic('e2e-resume');
    const quickRebalance = { sessionTimeoutMs: 6_000 };
    const settings = { consumerGroupId: `resume-${topic}` };
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [0, 1, 2].map((i) => ({ value: String(i), partition: 0 })),
    );
    const first = await emulate(topic, async () => ({ batchItemFailures: [] }), settings, quickRebalance);
    await until(() => first.emulator.stats.decided === 3 && first.emulator.stats.offsetLag === 0);
    running.splice(running.indexOf(first.emulator), 1);
    await first.emulator.stop();
    // Produced before the group's next member joins, and older than its timestamp: a seek to the
    // timestamp would skip them.
    await produce(
      env.KAFKA_BROKERS,
      topic,
      [3, 4].map((i) => ({ value: String(i), partition: 0 })),
    );
    const seen: string[] = [];
    const { emulator: next } = await emulate(
      topic,
      async (e) => {
        seen.push(...offsetsOf(e as KafkaEvent));
        return { batchItemFailures: [] };
      },
      { ...settings, startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: Math.ceil(Date.now() / 1_000) + 60 },
      quickRebalance,
    );
    await until(() => next.stats.decided === 2);
    expect(seen).toEqual(['0@3', '0@4']);
  });

  it('counts an invocation that overruns its timeout as failed and delivers the batch again', async () => {
    const topic = uniqueTopic('e2e-timeout');
    await produce(env.KAFKA_BROKERS, topic, [
      { value: 'a', partition: 0 },
      { value: 'b', partition: 0 },
    ]);
    let calls = 0;
    // The first invocation never answers; the retry answers at once, well within a timeout long
    // enough for a loaded machine.
    const { emulator } = await emulate(
      topic,
      async () => {
        if (calls++ === 0) await new Promise(() => undefined);
        return { batchItemFailures: [] };
      },
      {},
      { functionTimeoutMs: 3_000 },
    );
    await until(() => emulator.stats.decided >= 2);
    expect(emulator.stats.timeouts).toBe(1);
    expect(emulator.stats.failedInvocations).toBe(1);
    expect(emulator.stats.batchRetried).toBe(2);
  });
});

describe('the runtime behind the emulator with partial batch responses off', () => {
  it('fails the batch when dead letters cannot be written, so that the retried batch loses nothing', async () => {
    const topic = uniqueTopic('e2e-whole-batch');
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'dlq-whole-batch');
    // 8 throttled SendMessageBatch calls: more than the writer's 6 attempts, so the first
    // invocation cannot write its dead letters and must fail; the retry writes them.
    const proxy = await startFaultProxy(env.AWS_ENDPOINT_URL, { throttle: 8, partialFailures: 0 });
    // The runtime's SQS client is built on the first dead letter from this environment.
    for (const key of ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const) vi.stubEnv(key, env[key]);
    vi.stubEnv('AWS_ENDPOINT_URL', proxy.endpoint);
    try {
      const values = Array.from({ length: 30 }, (_, i) => ({ i, fail: i % 6 === 3 }));
      const attempts = new Map<number, number>(); // records 1 and 7 fail every other attempt: retried within each invocation
      await produce(
        env.KAFKA_BROKERS,
        topic,
        values.map((v) => ({ value: JSON.stringify(v), partition: v.i % 2 })),
      );
      const processed = new Map<number, number>(); // ground truth: what the user function finished
      const handler = kafkaConsumer<{ i: number; fail: boolean }>({
        reportBatchItemFailures: false,
        deadLetterQueueUrl: queue.url,
        processRecord: (r: KafkaRecord<{ i: number; fail: boolean }>) => {
          if (r.value!.fail) throw new NonRetryableError(`record ${r.value!.i} is bad`);
          attempts.set(r.value!.i, (attempts.get(r.value!.i) ?? 0) + 1);
          if ([1, 7].includes(r.value!.i) && attempts.get(r.value!.i)! % 2 === 1) throw new Error(`record ${r.value!.i} failed once`);
          processed.set(r.value!.i, (processed.get(r.value!.i) ?? 0) + 1);
        },
      });
      const { emulator } = await emulate(topic, (event, context) => handler(event, context));
      await until(() => emulator.stats.decided >= 30 && emulator.stats.failedInvocations > 0);
      const deadLettered = (await drain(sqs, queue.url)).map((m) => (JSON.parse(m.Body!) as DeadLetterEnvelope).record);
      const dead = new Set(deadLettered.map((r) => JSON.parse(Buffer.from(r.value!, 'base64').toString()).i as number));
      const lost = values.filter((v) => !processed.has(v.i) && !dead.has(v.i));
      expect(lost).toEqual([]);
      expect([...dead].sort((a, b) => a - b)).toEqual(values.filter((v) => v.fail).map((v) => v.i));
      expect(emulator.stats.failedInvocations).toBeGreaterThan(0); // the whole batch came again…
      expect([...processed.values()].some((n) => n > 1)).toBe(true); // …so some records were processed twice
      expect(emulator.stats.lost).toBe(0);
      // The emulator's own counts, from what the runtime reports on its channels, agree.
      expect(emulator.stats.deadLettered).toBe(deadLettered.length);
      expect(emulator.stats.retried).toBeGreaterThanOrEqual(2);
    } finally {
      await proxy.stop();
      await queue.remove();
    }
  });
});

describe('npm start', () => {
  it('runs the whole flow on the embedded defaults and accounts for every record', () => {
    const out = spawnSync(path.resolve('node_modules/.bin/tsx'), ['local/start.ts', '--records', '600', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, KAFKA_BROKERS: '', AWS_ENDPOINT_URL: '', DLQ_URL: '', ON_FAILURE_QUEUE_URL: '' },
      timeout: 240_000,
    });
    expect(out.status, out.stderr).toBe(0);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ produced: 600, lost: 0 });
    expect(summary.deadLettered).toBeGreaterThanOrEqual(18); // 2% permanent + 1% not JSON, then again after replay
    expect(summary.replayed).toBe(18);
    expect(summary.retried).toBeGreaterThan(0);
    expect(summary.processed + summary.deadLettered).toBe(600);
    // The figures say what they cover: the duration counts a first broker build, the rate the first pass only.
    expect(out.stdout).toMatch(/^duration \(whole run, incl\. a first broker build\) +[\d.]+ s$/m);
    expect(out.stdout).toMatch(/^records\/s \(first pass, before the replay\) +\d+$/m);
  }, 300_000);

  // Issue 32: deliveries are counted at the emulator's invocations, effects where the function
  // finishes a record; the replayed dead letters are delivered twice, and with the ledger on
  // (the embedded DynamoDB that npm start starts) no record's effect happens twice.
  it('with --idempotency, tells deliveries from effects and reports records skipped as done', () => {
    const out = spawnSync(path.resolve('node_modules/.bin/tsx'), ['local/start.ts', '--records', '600', '--idempotency', '--json'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        KAFKA_BROKERS: '',
        AWS_ENDPOINT_URL: '',
        AWS_ENDPOINT_URL_DYNAMODB: '',
        DLQ_URL: '',
        ON_FAILURE_QUEUE_URL: '',
      },
      timeout: 240_000,
    });
    expect(out.status, out.stderr).toBe(0);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ produced: 600, lost: 0, replayed: 18, duplicateEffects: 0, skippedAsDone: expect.any(Number) });
    expect(summary.duplicates).toBeGreaterThanOrEqual(18);
    expect(out.stdout).toMatch(/^dup\. effects +0$/m);
    expect(out.stdout).toMatch(/^skipped as done +\d+$/m);
  }, 300_000);

  it('stops at its deadline and reports the records it could not account for, with a non-zero exit code', () => {
    // A dead-letter queue that does not exist: records that fail for good can never be
    // dead-lettered, so their partitions are redelivered for ever and they are never decided.
    const out = spawnSync(path.resolve('node_modules/.bin/tsx'), ['local/start.ts', '--records', '100', '--deadline', '12', '--json'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        KAFKA_BROKERS: '',
        AWS_ENDPOINT_URL: '',
        DLQ_URL: 'http://127.0.0.1:1/000000000000/no-such-queue',
        ON_FAILURE_QUEUE_URL: '',
      },
      timeout: 120_000,
    });
    expect(out.status, out.stderr).toBe(1);
    const summary = JSON.parse(out.stdout.trim().split('\n').at(-1)!);
    // Records 0 and 1 fail for good and 5 is not JSON (the demo mix); the rest are processed.
    expect(summary).toMatchObject({ produced: 100, lost: 3, deadLettered: 0, processed: 97 });
    expect(summary.lostRecords).toHaveLength(3);
    expect(out.stderr).toContain('the deadline (--deadline 12 s) passed');
  }, 180_000);
});
