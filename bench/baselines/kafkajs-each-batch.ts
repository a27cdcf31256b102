import type { Kafka } from 'kafkajs';

/**
 * A plain kafkajs consumer: `eachBatch` decodes every value as JSON (the work the example
 * consumer's runtime does), resolves offsets and lets kafkajs commit. Resolves when `count`
 * records have been handled, with the time (performance.now) the first batch was done.
 */
export async function consumeWithKafkajs(kafka: Kafka, topic: string, groupId: string, count: number): Promise<{ firstHandledAt: number }> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let handled = 0;
  let firstHandledAt = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        partitionsConsumedConcurrently: 1_000,
        eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
          for (const message of batch.messages) {
            if (message.value) JSON.parse(message.value.toString());
            resolveOffset(message.offset);
          }
          await heartbeat();
          firstHandledAt ||= performance.now();
          handled += batch.messages.length;
          if (handled >= count) resolve();
        },
      })
      .catch(reject);
  });
  consumer.pause([{ topic }]); // not disconnect: kafkajs cannot parse the mock broker's LeaveGroup answer
  return { firstHandledAt };
}
