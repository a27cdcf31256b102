// park-key with the idempotency ledger on, both in the ledger's table (the construct's choice when
// idempotency is on) in the embedded DynamoDB, parked records in the S3 emulation, dead letters in
// the SQS emulation. The two must not get in each other's way: a record parked (or dead-lettered
// as its key's head) is not done, so the ledger must not say so, or its release copy would be
// skipped as done and its work never happen; a release copy delivered twice (a redelivered batch,
// or copies the replay produced twice) runs once. The partition log and the group's committed
// offset are this test's, as in park-key.test.ts.
import { randomUUID } from 'node:crypto';
import type { Message as KafkaMessage } from 'kafkajs';
import { describe, expect, inject, it } from 'vitest';
import { kafkaConsumer } from '../../src/runtime/index.js';
import { idempotencyLedger } from '../../src/runtime/idempotency/index.js';
import { parseDeadLetter, type DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { DynamoDbParkedKeyStore } from '../../src/runtime/parking/parked-key-store.js';
import { S3ParkedObjects } from '../../src/replay/parked-objects.js';
import { releaseParkedKey } from '../../src/replay/parked-key-release.js';
import { parseReplayRequest } from '../../src/replay/request.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { buildKafkaEvent, type BrokerRecord } from '../support/kafka-event.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';
import { useLocalServicesEnv } from '../support/ledger-env.js';

const env = inject('localEnv');
const tableName = useLocalServicesEnv(env, (table) => ({
  // One table for both, as the construct sets it when idempotency is on.
  PARKED_KEYS_TABLE: table,
  IDEMPOTENCY_TABLE: table,
}));

describe('park-key with the idempotency ledger, in one table', () => {
  it('does not take parked records as done, and runs each release copy once however often it comes', async () => {
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'park-key-ledger-dlq');
    const group = `park-ledger-${randomUUID()}`;
    const runs = new Map<string, number>();
    const completed: string[] = [];
    const failing = new Set(['a1']);
    // A new handler each time: a new sandbox, nothing kept in memory but what the table holds.
    const sandbox = () =>
      kafkaConsumer<{ id: string }>({
        failureMode: 'park-key',
        idempotency: idempotencyLedger({ flushIntervalMs: 50 }),
        consumerGroupId: group,
        deadLetterQueueUrl: queue.url,
        deadLetterBucket: env.DLQ_BUCKET,
        retry: { maxAttempts: 1 },
        processRecord: (record) => {
          if (failing.has(record.value.id)) throw new Error('fails for good');
          completed.push(record.value.id);
          runs.set(record.value.id, (runs.get(record.value.id) ?? 0) + 1);
        },
      });
    const log: BrokerRecord[] = [];
    const add = (key: string, id: string) =>
      log.push({ topic: 'orders', partition: 0, offset: log.length, key, value: JSON.stringify({ id }) });
    const deliver = async (from: number, to = log.length) => {
      const { batchItemFailures } = await sandbox()(buildKafkaEvent(log.slice(from, to)), lambdaContext(30_000, 'consumer'));
      expect(batchItemFailures).toEqual([]);
    };
    try {
      add('a', 'a0');
      add('a', 'a1');
      add('b', 'b0');
      add('a', 'a2');
      await deliver(0);
      expect(completed).toEqual(['a0', 'b0']);
      const [message] = await drain(sqs, queue.url, 1);
      const deadLetter = parseDeadLetter(message!.Body!) as DeadLetterEnvelope;
      expect(deadLetter).toMatchObject({ record: { offset: 1 }, parked: { epoch: expect.any(Number) } });

      // The cause fixed, the replay releases the key: its copies go to the partition's end, and
      // (say the replay was killed after producing and ran again) a second time after them.
      failing.clear();
      let position = log.length;
      // A record the consumer has not reached when the copies are produced: the key stays parked until it has.
      add('b', 'b1');
      const produce = async (_topic: string, _partition: number, messages: KafkaMessage[]) => {
        const first = log.length;
        for (const copy of [messages, messages])
          for (const m of copy)
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
        store: new DynamoDbParkedKeyStore(tableName()),
        objects: new S3ParkedObjects(env.DLQ_BUCKET),
        produce,
        committed: async () => position,
        replayLimit: 3,
        settings: parseReplayRequest({}, ['orders']),
        pollMs: 50,
      };
      expect(await releaseParkedKey(deadLetter, options, Date.now() + 200)).toMatchObject({ records: 2, released: false });
      expect(log.length).toBe(9);
      // b1 and the copies twice over, then the same batch redelivered to another sandbox.
      await deliver(position);
      await deliver(position);
      position = log.length;
      expect(completed).toEqual(['a0', 'b0', 'b1', 'a1', 'a2']);
      expect([...runs.values()]).toEqual([1, 1, 1, 1, 1]);

      // Released once the group is past the copies; the key's next record runs as any other.
      expect(await releaseParkedKey(deadLetter, options, Date.now() + 5_000)).toMatchObject({ released: true, done: true });
      add('a', 'a3');
      await deliver(position);
      expect(completed).toEqual(['a0', 'b0', 'b1', 'a1', 'a2', 'a3']);
    } finally {
      await queue.remove();
    }
  });
});
