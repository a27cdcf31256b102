import { describe, expect, inject, it, vi } from 'vitest';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { startEmbeddedKafka } from '../../local/kafka/embedded-kafka.js';
import { freshQueue, sqsClient } from '../support/sqs.js';
import { readTopic, uniqueTopic } from '../support/kafka.js';
import { IDEMPOTENCY_TABLE } from '../../src/contract/index.js';
import { startLocalServices } from '../../local/services.js';
import { ledgerEnvOf } from '../support/ledger-env.js';
import { invokeOnce } from '../../local/commands/invoke.js';

const env = inject('localEnv');
/** Far beyond a group join and 30 records: only a consumer that never gets them all reaches it. */
const READ_DEADLINE_MS = 60_000;

describe('embedded services are real', () => {
  it('Kafka: keys, null values and binary headers on 3 partitions, read back by a consumer group that commits', async () => {
    const kafka = await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS });
    const topic = uniqueTopic('proof');
    const broker = process.env.KAFKA_BROKERS ? undefined : await startEmbeddedKafka({ topics: { [topic]: 3 } });
    const client = broker ? await createKafka({ KAFKA_BROKERS: broker.brokers.join(',') }) : kafka;
    if (!broker) {
      const admin = kafka.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
      await admin.disconnect();
    }
    try {
      const producer = client.producer();
      await producer.connect();
      const sent = Array.from({ length: 30 }, (_, i) => ({
        partition: i % 3,
        key: i % 5 === 0 ? null : `key-${i}`,
        value: i % 7 === 0 ? null : `value-${i}`,
        headers: { bin: Buffer.from([0, 255, i]) },
      }));
      await producer.send({ topic, acks: -1, messages: sent });
      await producer.disconnect();

      const consumer = client.consumer({ groupId: `${topic}-group` });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const got: Array<{ partition: number; key: string | null; value: string | null; bin: Buffer }> = [];
      const allRead = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`read ${got.length} of ${sent.length} records in ${READ_DEADLINE_MS / 1_000} s`)),
          READ_DEADLINE_MS,
        );
        void consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch, resolveOffset }) => {
            for (const m of batch.messages) {
              got.push({
                partition: batch.partition,
                key: m.key?.toString() ?? null,
                value: m.value?.toString() ?? null,
                bin: m.headers!.bin as Buffer,
              });
              resolveOffset(m.offset);
            }
            const last = batch.messages.at(-1);
            if (last) await consumer.commitOffsets([{ topic, partition: batch.partition, offset: String(Number(last.offset) + 1) }]);
            if (got.length === sent.length) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
      try {
        await allRead;
      } finally {
        await consumer.disconnect();
      }
      expect(new Set(got.map((g) => g.partition))).toEqual(new Set([0, 1, 2]));
      expect(got.filter((g) => g.value === null)).toHaveLength(5);
      expect(got.filter((g) => g.key === null)).toHaveLength(6);
      expect(got.find((g) => g.value === 'value-4')!.bin).toEqual(Buffer.from([0, 255, 4]));

      const admin = client.admin();
      await admin.connect();
      const [offsets] = await admin.fetchOffsets({ groupId: `${topic}-group`, topics: [topic] });
      await admin.disconnect();
      expect(offsets!.partitions.map((p) => Number(p.offset)).sort()).toEqual([10, 10, 10]);
    } finally {
      await broker?.stop();
    }
  });

  it("Kafka: a partition keeps every record past 5 MiB (librdkafka's mock would drop the oldest)", async () => {
    const topic = uniqueTopic('retention');
    const records = 7_000; // about 7 MiB on partition 0
    const value = 'x'.repeat(1_000);
    const producer = (await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS })).producer({ allowAutoTopicCreation: true });
    await producer.connect();
    for (let i = 0; i < records; i += 500) {
      await producer.send({
        topic,
        acks: -1,
        messages: Array.from({ length: 500 }, (_, j) => ({ partition: 0, key: String(i + j), value })),
      });
    }
    await producer.disconnect();
    const got = await readTopic(env.KAFKA_BROKERS, topic, records, 60_000);
    expect(got).toHaveLength(records);
    expect(got[0]).toMatchObject({ partition: 0, offset: 0 });
  });

  // Kafka's group.initial.rebalance.delay.ms: 3 s unless the broker is told otherwise.
  it.skipIf(Boolean(process.env.KAFKA_BROKERS))(
    "Kafka: the embedded broker assigns a new group's partitions at once, unless given an initial rebalance delay",
    async () => {
      const joinedAt = async (initialRebalanceDelayMs?: number) => {
        const topic = uniqueTopic('join');
        const broker = await startEmbeddedKafka({
          topics: { [topic]: 1 },
          ...(initialRebalanceDelayMs !== undefined ? { initialRebalanceDelayMs } : {}),
        });
        const consumer = (await createKafka({ KAFKA_BROKERS: broker.brokers.join(',') })).consumer({ groupId: `${topic}-group` });
        try {
          await consumer.connect();
          await consumer.subscribe({ topic });
          const joined = new Promise<number>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve(performance.now())));
          const started = performance.now();
          await consumer.run({ eachMessage: async () => undefined });
          return { started, joined: await joined };
        } finally {
          await consumer.disconnect();
          await broker.stop();
        }
      };
      // Started together: the default (0) joins long before a 2 s delay ends, as a 3 s default would not.
      const [byDefault, delayed] = await Promise.all([joinedAt(), joinedAt(2_000)]);
      expect(delayed.joined - delayed.started).toBeGreaterThanOrEqual(2_000);
      expect(byDefault.joined).toBeLessThan(delayed.joined);
    },
  );

  it('SQS and S3 through the unmodified AWS SDK clients and AWS_ENDPOINT_URL', async () => {
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'proof');
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: 'hello',
        MessageAttributes: { topic: { DataType: 'String', StringValue: 'orders' } },
      }),
    );
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }),
    );
    expect(Messages.map((m) => [m.Body, m.MessageAttributes?.topic?.StringValue])).toEqual([['hello', 'orders']]);
    await queue.remove();

    const s3 = new S3Client({
      endpoint: env.AWS_ENDPOINT_URL,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    await s3.send(new PutObjectCommand({ Bucket: env.DLQ_BUCKET, Key: 'proof/object.bin', Body: Buffer.from([1, 2, 3]) }));
    const object = await s3.send(new GetObjectCommand({ Bucket: env.DLQ_BUCKET, Key: 'proof/object.bin' }));
    expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(Buffer.from([1, 2, 3]));
  });

  // As the construct sets IDEMPOTENCY_TABLE only when its idempotency prop is on: a handler without
  // the option is not told of a ledger (the runtime would warn at cold start).
  it('names the ledger table (and its expiry, when given) only when the ledger is asked for; DynamoDB is always reachable', async () => {
    expect(env.AWS_ENDPOINT_URL_DYNAMODB).toMatch(/^http:/);
    expect(env.IDEMPOTENCY_TABLE).toBeUndefined();
    const given = { ...env, KAFKA_BROKERS: '', IDEMPOTENCY_EXPIRY_SECONDS: '3600' };
    const without = await startLocalServices({ withKafka: false, environment: given });
    await without.stop();
    expect(without.env).toMatchObject({ AWS_ENDPOINT_URL_DYNAMODB: env.AWS_ENDPOINT_URL_DYNAMODB });
    expect(Object.keys(without.env).filter((name) => name.startsWith('IDEMPOTENCY_'))).toEqual([]);
    expect(await ledgerEnvOf(env, { IDEMPOTENCY_EXPIRY_SECONDS: '3600' })).toMatchObject({
      AWS_ENDPOINT_URL_DYNAMODB: env.AWS_ENDPOINT_URL_DYNAMODB,
      IDEMPOTENCY_TABLE: 'kafka-idempotency',
      IDEMPOTENCY_EXPIRY_SECONDS: '3600',
    });
    expect((await ledgerEnvOf(env)).IDEMPOTENCY_EXPIRY_SECONDS).toBeUndefined();
  });

  it("local invoke --idempotency names the running services' ledger table for the handler; without it, none", async () => {
    const tableSeen = async (idempotency: boolean) => {
      const shell: NodeJS.ProcessEnv = { ...env };
      let seen: string | undefined = 'not invoked';
      const io = { out: () => undefined, err: () => undefined, env: shell };
      const load = async () => async () => void (seen = shell.IDEMPOTENCY_TABLE);
      await invokeOnce({ load, event: {}, timeoutSeconds: 5, functionName: 'ledger', needsKafka: false, idempotency }, io);
      return seen;
    };
    expect(await tableSeen(true)).toBe('kafka-idempotency');
    expect(await tableSeen(false)).toBeUndefined();
  });

  // The calls the idempotency ledger makes (IDEMPOTENCY_ACTIONS), and the gaps docs/local-development.md
  // lists: a test here goes red when dynalite changes, so the page is updated with it.
  it('DynamoDB through the unmodified SDK client and AWS_ENDPOINT_URL_DYNAMODB: the ledger table, conditional updates, batch reads and writes', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', env.AWS_ENDPOINT_URL_DYNAMODB);
    const table = (await ledgerEnvOf(env)).IDEMPOTENCY_TABLE!;
    const dynamoDb = new DynamoDBClient({
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    });
    try {
      const { Table } = await dynamoDb.send(new DescribeTableCommand({ TableName: table }));
      expect(Table).toMatchObject({
        TableStatus: 'ACTIVE',
        KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
        BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
      });

      const id = `proof-${Date.now()}-${Math.random()}`;
      const claim = new UpdateItemCommand({
        TableName: table,
        Key: { id: { S: id } },
        UpdateExpression: 'SET #state = :state, expiresAt = :expiresAt',
        ConditionExpression: 'attribute_not_exists(id)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':state': { S: 'in-progress' }, ':expiresAt': { N: '2000000000' } },
        ReturnValues: 'ALL_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      const first = await dynamoDb.send(claim);
      expect(first.Attributes).toEqual({ id: { S: id }, state: { S: 'in-progress' }, expiresAt: { N: '2000000000' } });
      const second = await dynamoDb.send(claim).catch((error: unknown) => error);
      expect(second).toMatchObject({ name: 'ConditionalCheckFailedException' });
      // DynamoDB returns the item that failed the condition; dynalite does not (a documented gap).
      expect((second as { Item?: unknown }).Item).toBeUndefined();

      const others = [`${id}-a`, `${id}-b`];
      await dynamoDb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [table]: others.map((other) => ({ PutRequest: { Item: { id: { S: other }, state: { S: 'done' } } } })),
          },
        }),
      );
      const { Responses } = await dynamoDb.send(
        new BatchGetItemCommand({
          RequestItems: { [table]: { Keys: [id, ...others, `${id}-absent`].map((key) => ({ id: { S: key } })) } },
        }),
      );
      expect(Responses![table]!.map((item) => item.id!.S).sort()).toEqual([id, ...others].sort());

      // No transactions in dynalite (a documented gap): the ledger must not rely on them.
      const transaction = await dynamoDb
        .send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: table, Item: { id: { S: `${id}-t` } } } }] }))
        .catch((error: unknown) => error);
      expect(transaction).toMatchObject({ name: 'UnknownOperationException' });
    } finally {
      dynamoDb.destroy();
      vi.unstubAllEnvs();
    }
  });
});
