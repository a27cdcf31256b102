// The replay run meeting dead letters a key is parked behind: released (with the parked-key table
// and bucket) and deleted, or left in the queue naming what to set; the others replayed as before.
import type { Producer, ProducerBatch } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../../src/kafka/kafka-headers.js';
import { DlqReplayer } from '../../../src/replay/replayer.js';
import type { ReplaySettings } from '../../../src/replay/request.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { parkedKeyOf } from '../../../src/replay/parked-key-release.js';
import { parkedKeyItemId } from '../../../src/runtime/parking/parked-key-names.js';
import { envelopes } from '../../support/dead-letter-transport.js';
import { fakeAws, sqsMessage } from '../../support/fake-aws.js';
import { FakeParkedKeyStore } from '../../support/fake-parked-key-store.js';
import { FakeBucket, headerOf } from '../../support/park-key-world.js';
import { registerTracing } from '../../support/tracing.js';
import { startReplayTracing } from '../../../src/replay/trace-links.js';
import type { DeadLetterEnvelope } from '../../../src/runtime/envelope.js';

afterEach(() => vi.restoreAllMocks());

const settings: ReplaySettings = { source: 'dlq', maxMessages: 100, dryRun: false, filter: {}, allowedTopics: ['t'] };
const EPOCH = 5;

function world() {
  const [plain, keyed] = envelopes(2, 't');
  const parked = {
    ...keyed!,
    record: { ...keyed!.record, key: Buffer.from('k').toString('base64') },
    source: { ...keyed!.source, consumerGroup: 'app-t' },
    parked: { epoch: EPOCH },
  };
  const store = new FakeParkedKeyStore();
  store.items.set(parkedKeyItemId(parkedKeyOf(parked)), {
    epoch: EPOCH,
    head: parked.record.offset,
    since: 1,
    after: 1,
    last: 1,
    count: 0,
  });
  const batches: ProducerBatch[] = [];
  const producer = {
    sendBatch: async (batch: ProducerBatch) => {
      batches.push(batch);
      return [{ topicName: 't', partition: 0, errorCode: 0, baseOffset: '100' }];
    },
  } as unknown as Producer;
  const messages = [sqsMessage(plain!, 0), sqsMessage(parked, 1)];
  return { store, batches, producer, messages };
}

describe('DlqReplayer and parked keys', () => {
  it('releases the key of a parked dead letter, produces its record with the park epoch, deletes it; replays the others as before', async () => {
    const { store, batches, producer, messages } = world();
    const aws = await fakeAws(messages);
    const replayer = new DlqReplayer({
      queueUrl: 'https://sqs/dlq',
      producer: async () => producer,
      replayLimit: 3,
      receivers: 1,
      retry: new RetryPolicy({ maxAttempts: 1 }),
      parking: { store, objects: new FakeBucket(), committed: async () => 100 },
    });
    const summary = await replayer.run(settings, Date.now() + 10_000);
    expect(summary).toMatchObject({ received: 2, replayed: 2, failed: 0, parked: { keysReleased: 1, records: 1 } });
    const epochs = batches.flatMap((b) => b.topicMessages!.flatMap((t) => t.messages.map((m) => headerOf(m, 'x-dlq-park-epoch'))));
    expect(epochs.sort()).toEqual([String(EPOCH), undefined].sort());
    expect(aws.named('DeleteMessageBatch').flatMap((d) => d.Entries!)).toHaveLength(2);
  });

  it('leaves a parked dead letter in the queue, naming PARKED_KEYS_TABLE and DLQ_BUCKET, when the replay has no parked-key table', async () => {
    const { batches, producer, messages } = world();
    const aws = await fakeAws(messages);
    const replayer = new DlqReplayer({ queueUrl: 'https://sqs/dlq', producer: async () => producer, replayLimit: 3, receivers: 1 });
    const summary = await replayer.run(settings, Date.now() + 10_000);
    expect(summary).toMatchObject({ received: 2, replayed: 1, failed: 1 });
    expect(summary.errors[0]!.reason).toMatch(/PARKED_KEYS_TABLE and DLQ_BUCKET/);
    expect(batches).toHaveLength(1);
    expect(aws.named('DeleteMessageBatch').flatMap((d) => d.Entries!)).toHaveLength(1);
  });

  it("traces the release copies too (an SDK registered): the parked dead letter's copy links to its own contexts", async () => {
    const sdk = registerTracing();
    try {
      const { store, producer, messages } = world();
      const failure = { traceparent: `00-${'f'.repeat(32)}-${'e'.repeat(16)}-01` };
      const parked = JSON.parse(messages[1]!.Body!) as DeadLetterEnvelope;
      await fakeAws([messages[0]!, sqsMessage({ ...parked, trace: { failure } }, 1)]);
      const replayer = new DlqReplayer({
        queueUrl: 'https://sqs/dlq',
        producer: async () => producer,
        replayLimit: 3,
        receivers: 1,
        parking: { store, objects: new FakeBucket(), committed: async () => 100 },
        tracing: startReplayTracing({}),
      });
      await replayer.run(settings, Date.now() + 10_000);
      const links = sdk.spans().map((s) => s.links.map((l) => l.context.spanId));
      expect(links).toEqual([['e'.repeat(16)], []]); // the release first, then the plain dead letter (no trace)
    } finally {
      sdk.unregister();
    }
  });
});
