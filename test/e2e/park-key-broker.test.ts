// park-key end to end on the embedded broker: the runtime's consumer (in this process, as the
// Lambda would run it) behind the event source mapping emulator, the parked-key table in dynalite,
// parked records in the S3 emulation, dead letters in the SQS emulation. A key is parked across
// two emulators (the first stopped, a second started on the same group: a restart), another key
// flows meanwhile, and the replay function (`npm run invoke replay`, a subprocess) releases the
// key: its records complete in offset order.
import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { kafkaConsumer } from '../../src/runtime/index.js';
import { EventSourceMappingEmulator } from '../../local/esm/emulator.js';
import { produce, uniqueTopic } from '../support/kafka.js';
import { freshQueue, sqsClient } from '../support/sqs.js';
import { useLocalServicesEnv } from '../support/ledger-env.js';
import { invoke } from '../support/invoke.js';

const env = inject('localEnv');
const tableName = useLocalServicesEnv(env, (table) => ({
  PARKED_KEYS_TABLE: table,
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
}));

const until = async (done: () => boolean, what: string, timeoutMs = 60_000) => {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('park-key on the embedded broker', () => {
  it('parks a key across a restart of the mapping, lets another key flow, and the replay releases it in order', async () => {
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'park-key-broker');
    const topic = uniqueTopic('e2e-park-key');
    const consumerGroupId = `pk-${randomUUID().slice(0, 8)}`;
    const completed: string[] = [];
    const failing = new Set(['a1']);
    const handler = kafkaConsumer<{ id: string }>({
      failureMode: 'park-key',
      consumerGroupId,
      deadLetterQueueUrl: queue.url,
      deadLetterBucket: env.DLQ_BUCKET,
      retry: { maxAttempts: 1 },
      processRecord: (record) => {
        if (failing.has(record.value.id)) throw new Error('fails for good');
        if (!completed.includes(record.value.id)) completed.push(record.value.id);
      },
    });
    const mapping = async () => {
      const emulator = new EventSourceMappingEmulator({
        kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }),
        topic,
        functionName: `park-key-${consumerGroupId}`,
        bootstrapServers: env.KAFKA_BROKERS,
        handler: (event, context) => handler(event as Parameters<typeof handler>[0], context),
        retryDelayMs: 50,
        sessionTimeoutMs: 6_000,
        settings: { topics: [topic], batchSize: 2, maxBatchingWindowSeconds: 0, consumerGroupId },
      });
      await emulator.start();
      return emulator;
    };
    const send = (ids: string[]) =>
      produce(
        env.KAFKA_BROKERS,
        topic,
        ids.map((id) => ({ key: id[0]!, value: JSON.stringify({ id }), partition: 0 })),
      );
    const of = (key: string) => completed.filter((id) => id.startsWith(key));
    let emulator: EventSourceMappingEmulator | undefined;
    try {
      await send(['a0', 'a1', 'b0', 'a2', 'b1', 'a3']);
      emulator = await mapping();
      await until(() => of('b').length === 2, 'b0 and b1');
      await emulator.stop();
      // A restart: a new mapping on the same group, nothing of the first one's memory.
      await send(['a4', 'b2']);
      emulator = await mapping();
      await until(() => of('b').length === 3, 'b2');
      expect(of('a')).toEqual(['a0']);

      failing.clear(); // the cause fixed
      const replayed = await invoke(
        'replay',
        {},
        {
          ...env,
          DLQ_URL: queue.url,
          REPLAY_ALLOWED_TOPICS: topic,
          KAFKA_IDEMPOTENT_PRODUCER: 'false',
          PARKED_KEYS_TABLE: tableName(),
        },
      );
      expect(replayed.result.response).toMatchObject({ received: 1, failed: 0, errors: [], parked: { keysReleased: 1 } });
      await until(() => of('a').length === 5, 'a1 to a4');
      expect(of('a')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
      expect(of('b')).toEqual(['b0', 'b1', 'b2']);
    } finally {
      await emulator?.stop();
      await queue.remove();
    }
  });
});
