// park-key against the local services: the parked-key table in the embedded DynamoDB (dynalite,
// the ledger's table: the same schema), parked records in the S3 emulation's dead-letter bucket,
// dead letters in the SQS emulation. A key is parked across two invocations of two handler
// instances (a new sandbox: nothing kept in memory), released by the replay's release in order,
// while another key flows. The partition log and the group's committed offset are this test's
// (the broker's part, producing the copies, is the replay's producer, covered by its own e2e tests).
import { randomUUID } from 'node:crypto';
import type { Message as KafkaMessage } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { kafkaConsumer } from '../../src/runtime/index.js';
import { parseDeadLetter, type DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { DynamoDbParkedKeyStore } from '../../src/runtime/parking/parked-key-store.js';
import { parkedKeyItemId } from '../../src/runtime/parking/parked-key-names.js';
import { S3ParkedObjects } from '../../src/replay/parked-objects.js';
import { parkedKeyOf, releaseParkedKey } from '../../src/replay/parked-key-release.js';
import { parseReplayRequest } from '../../src/replay/request.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { buildKafkaEvent, type BrokerRecord } from '../support/kafka-event.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';
import { useLocalServicesEnv } from '../support/ledger-env.js';

const env = inject('localEnv');
const tableName = useLocalServicesEnv(env, (table) => ({ PARKED_KEYS_TABLE: table }));

describe('park-key on the local services', () => {
  it('parks a key across invocations and sandboxes, and the release puts it back in order while another key flows', async () => {
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'park-key-dlq');
    const group = `park-${randomUUID()}`;
    const completed: string[] = [];
    const failing = new Set(['a1']);
    // A new handler each time: a new sandbox, nothing of the parked state kept in memory.
    const sandbox = () =>
      kafkaConsumer<{ id: string }>({
        failureMode: 'park-key',
        consumerGroupId: group,
        deadLetterQueueUrl: queue.url,
        deadLetterBucket: env.DLQ_BUCKET,
        retry: { maxAttempts: 1 },
        processRecord: (record) => {
          if (failing.has(record.value.id)) throw new Error('fails for good');
          completed.push(record.value.id);
        },
      });
    const log: BrokerRecord[] = [];
    const add = (key: string, id: string) =>
      log.push({ topic: 'orders', partition: 0, offset: log.length, key, value: JSON.stringify({ id }) });
    let position = 0;
    const invoke = async () => {
      const batch = log.slice(position);
      const { batchItemFailures } = await sandbox()(buildKafkaEvent(batch), lambdaContext(30_000, 'consumer'));
      expect(batchItemFailures).toEqual([]);
      position = log.length;
    };
    try {
      add('a', 'a0');
      add('a', 'a1');
      add('b', 'b0');
      add('a', 'a2');
      await invoke();
      add('a', 'a3');
      add('b', 'b1');
      await invoke();
      expect(completed).toEqual(['a0', 'b0', 'b1']);
      const [message, ...others] = await drain(sqs, queue.url, 1);
      expect(others).toEqual([]);
      const deadLetter = parseDeadLetter(message!.Body!) as DeadLetterEnvelope;
      expect(deadLetter.record.offset).toBe(1);
      const store = new DynamoDbParkedKeyStore(tableName());
      const id = parkedKeyItemId(parkedKeyOf(deadLetter));
      expect(await store.get(id, Date.now() + 5_000)).toMatchObject({ epoch: deadLetter.parked!.epoch, head: 1, last: 4, count: 2 });

      // The cause fixed, the replay releases the key: the copies go to the partition's end.
      failing.clear();
      const produce = async (_topic: string, _partition: number, messages: KafkaMessage[]) => {
        const first = log.length;
        for (const m of messages)
          log.push({
            topic: 'orders',
            partition: 0,
            offset: log.length,
            key: m.key as Buffer,
            value: m.value as Buffer,
            headers: Object.entries(m.headers as Record<string, Buffer[]>).map(([name, [value]]) => [name, value!] as [string, Buffer]),
          });
        return first;
      };
      const options = {
        store,
        objects: new S3ParkedObjects(env.DLQ_BUCKET),
        produce,
        committed: async () => position,
        replayLimit: 3,
        settings: parseReplayRequest({}, ['orders']),
        pollMs: 50,
      };
      // A record of the key the consumer has not reached yet when the copies are produced.
      add('a', 'a-late');
      const first = await releaseParkedKey(deadLetter, options, Date.now() + 200);
      // Not released: the consumer group is not past the copies, a-late could (and does) come before them.
      expect(first).toMatchObject({ records: 3, released: false, done: false });
      add('b', 'b2');
      await invoke();
      expect(completed).toEqual(['a0', 'b0', 'b1', 'a1', 'a2', 'a3', 'b2']);
      // The next run produces a-late behind the copies, and releases the key.
      const second = await releaseParkedKey(deadLetter, options, Date.now() + 5_000);
      expect(second).toMatchObject({ records: 1, released: true, done: true });
      add('a', 'a4');
      await invoke();
      expect(completed).toEqual(['a0', 'b0', 'b1', 'a1', 'a2', 'a3', 'b2', 'a-late', 'a4']);
      expect(await store.get(id, Date.now() + 5_000)).toMatchObject({ released: true });
      expect(await options.objects.list(`parked/`, Date.now() + 5_000)).toEqual([]);
    } finally {
      await queue.remove();
    }
  });
});
