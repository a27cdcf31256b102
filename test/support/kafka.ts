import { randomBytes } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { createKafka } from '../../src/kafka/kafka-connection.js';

// New on every run, so that a second run against a long-lived KAFKA_BROKERS cluster sees none of
// the first run's records or committed offsets (consumer groups are named after their topic).
const RUN_ID = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
let sequence = 0;
/** A topic name (and so group names derived from it) that no other test or run uses. */
export const uniqueTopic = (prefix: string) => `${prefix}-${RUN_ID}-${sequence++}`;

export interface ConsumedRecord {
  partition: number;
  offset: number;
  message: KafkaMessage;
}

/** Reads a topic from the beginning with a new consumer group until `count` records arrived (or `timeoutMs`). */
export async function readTopic(brokers: string, topic: string, count: number, timeoutMs = 20_000): Promise<ConsumedRecord[]> {
  const kafka = await createKafka({ KAFKA_BROKERS: brokers });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: ConsumedRecord[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    const done = () => got.length >= count && (clearTimeout(timer), resolve());
    void consumer.run({
      eachMessage: async ({ partition, message }) => void (got.push({ partition, offset: Number(message.offset), message }), done()),
    });
    done();
  });
  await consumer.disconnect();
  return got;
}

/** Produces to a topic (auto-created by the broker where allowed). */
export async function produce(
  brokers: string,
  topic: string,
  messages: Array<{ key?: string | null; value: string | null; partition?: number; headers?: Record<string, string> }>,
) {
  const kafka = await createKafka({ KAFKA_BROKERS: brokers });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages });
  await producer.disconnect();
}

/** Records a topic holds (high minus low watermark, summed over partitions), without consuming. */
export async function topicRecordCount(brokers: string, topic: string): Promise<number> {
  const admin = (await createKafka({ KAFKA_BROKERS: brokers })).admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}
