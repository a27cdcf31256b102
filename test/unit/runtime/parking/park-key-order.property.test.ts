// Property: whatever records fail (some of their copies too), however the partition is cut into
// invocations and wherever replay runs fall between them, every key's records first complete in
// their offset order (a copy counting as its original, by x-dlq-original-offset), none is lost, and
// keys without failures never wait. The consumer is kafkaConsumer in park-key mode; the release is
// the replay's; the table, the bucket, the queue and the partition's log are in memory.
import fc from 'fast-check';
import type { Message as KafkaMessage } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeParkedKeyStore } from '../../../support/fake-parked-key-store.js';
import { FakeBucket } from '../../../support/park-key-world.js';
import { buildKafkaEvent, type BrokerRecord } from '../../../support/kafka-event.js';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';
import { captureOutput } from '../../../support/output.js';
import { propertyRuns } from '../../../support/properties.js';
import type { DeadLetterEnvelope } from '../../../../src/runtime/envelope.js';
import type { DeadLetterTransport } from '../../../../src/runtime/dead-letter-writer.js';

let store = new FakeParkedKeyStore();
vi.mock('../../../../src/runtime/parking/parked-key-store.js', () => ({
  DynamoDbParkedKeyStore: class {
    constructor() {
      return store;
    }
  },
}));
const { kafkaConsumer } = await import('../../../../src/runtime/index.js');
const { releaseParkedKey } = await import('../../../../src/replay/parked-key-release.js');
const { replayMessage } = await import('../../../../src/replay/produce.js');
const { parseReplayRequest } = await import('../../../../src/replay/request.js');

beforeEach(() => {
  vi.stubEnv('PARKED_KEYS_TABLE', 'parked');
  captureOutput();
});
afterEach(() => vi.unstubAllEnvs());

interface Original {
  readonly key: string;
  /** Its runs that fail for good before one succeeds (a copy's runs count as its original's). */
  readonly failures: number;
}

const KEYS = ['a', 'b', 'c', 'calm'];
// 'calm' never fails: its records must never be parked, whatever happens to the other keys.
const original = fc
  .record({ key: fc.constantFrom(...KEYS), failures: fc.constantFrom(0, 0, 0, 1, 2) })
  .map((o) => (o.key === 'calm' ? { ...o, failures: 0 } : o));
// A step: an invocation of up to n records from the committed position, or a replay run.
const step = fc.oneof(fc.integer({ min: 1, max: 5 }), fc.constant('replay' as const));

async function runWorld(originals: Original[], steps: Array<number | 'replay'>) {
  store = new FakeParkedKeyStore();
  const bucket = new FakeBucket();
  const queue: DeadLetterEnvelope[] = [];
  const log: BrokerRecord[] = originals.map((o, offset) => ({ topic: 't', partition: 0, offset, key: o.key, value: String(offset) }));
  const runs = new Map<number, number>();
  /** The keys of the records parked, in the order they were. */
  const parkedKeys: string[] = [];
  const completed: number[] = [];
  const transport: DeadLetterTransport = {
    async sendMessageBatch(_url, entries) {
      for (const e of entries) queue.push(JSON.parse(e.MessageBody) as DeadLetterEnvelope);
      return { failed: [] };
    },
    async putObject(_bucket, key, body) {
      bucket.objects.set(key, body);
      parkedKeys.push(Buffer.from((JSON.parse(body) as DeadLetterEnvelope).record.key!, 'base64').toString());
    },
  };
  const handler = kafkaConsumer({
    failureMode: 'park-key',
    consumerGroupId: 'app',
    deadLetterQueueUrl: 'q',
    deadLetterBucket: 'b',
    deadLetterTransport: transport,
    deserializer: 'string',
    retry: { maxAttempts: 1 },
    processRecord: (record) => {
      const id = Number(record.value);
      const n = (runs.get(id) ?? 0) + 1;
      runs.set(id, n);
      if (n <= originals[id]!.failures) throw new Error('fails for good');
      if (!completed.includes(id)) completed.push(id);
    },
  });
  let position = 0;
  const append = (message: KafkaMessage) =>
    log.push({
      topic: 't',
      partition: 0,
      offset: log.length,
      key: message.key as Buffer,
      value: message.value as Buffer,
      headers: Object.entries(message.headers as Record<string, Buffer[]>).map(([name, [value]]) => [name, value!] as [string, Buffer]),
    });
  const settings = parseReplayRequest({}, ['t']);
  // The group's committed offset is the consumer's position: Lambda commits what an invocation answered for.
  const options = {
    store,
    objects: bucket,
    replayLimit: 100,
    settings,
    pollMs: 0,
    committed: async () => position,
    produce: async (_topic: string, _partition: number, messages: KafkaMessage[]) => {
      const first = log.length;
      messages.forEach(append);
      return first;
    },
  };
  const replay = async () => {
    for (const envelope of queue.splice(0)) {
      if (!envelope.parked) {
        append(replayMessage(envelope, true));
        continue;
      }
      // A deadline already past: one look, then the dead letter stays in the queue for the next run.
      const { done } = await releaseParkedKey(envelope, options, Date.now());
      if (!done) queue.push(envelope);
    }
  };
  const invoke = async (size: number) => {
    if (position >= log.length) return;
    const batch = log.slice(position, position + size);
    const { batchItemFailures } = await handler(buildKafkaEvent(batch), lambdaContext(30_000, 'consumer'));
    position = batchItemFailures[0]?.itemIdentifier.offset ?? position + batch.length;
  };
  for (const s of steps) await (s === 'replay' ? replay() : invoke(s));
  // Then drain: consume everything, replay, until nothing is left.
  for (let round = 0; round < 50 && (position < log.length || queue.length > 0); round++) {
    while (position < log.length) await invoke(5);
    await replay();
  }
  return { completed, log, parkedKeys };
}

describe('park-key ordering', () => {
  it('keeps every key in offset order through any interleaving of parks and releases, loses nothing, never parks a key without failures', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(original, { minLength: 1, maxLength: 12 }), fc.array(step, { maxLength: 12 }), async (originals, steps) => {
        const { completed, parkedKeys } = await runWorld(originals, steps);
        expect(parkedKeys).not.toContain('calm');
        expect([...completed].sort((x, y) => x - y)).toEqual(originals.map((_, i) => i));
        for (const key of KEYS) {
          const order = completed.filter((id) => originals[id]!.key === key);
          expect(order).toEqual([...order].sort((x, y) => x - y));
        }
      }),
      propertyRuns(),
    );
  }, 60_000); // 200 runs of a whole consumer and replay: seconds, more on a loaded machine
});
