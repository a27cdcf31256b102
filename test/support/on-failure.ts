import type { IHeaders } from 'kafkajs';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { EventSourceMappingEmulator, type Handler } from '../../local/esm/emulator.js';
import { onFailureRecord, type OnFailureDestination, type OnFailureRecord } from '../../local/esm/on-failure-destinations.js';
import type { MappingSettings } from '../../src/mapping/mapping-settings.js';

/**
 * A destination that keeps, in memory, the metadata record an SQS destination would get: for
 * tests about when and why the mapping gives up. test/e2e/on-failure-destinations.test.ts writes
 * to the real ones.
 */
export function recordingDestination(): { destination: OnFailureDestination; records: OnFailureRecord[] } {
  const records: OnFailureRecord[] = [];
  return { destination: { target: 'memory', send: async (batch) => void records.push(onFailureRecord(batch)) }, records };
}

export interface SourceRecord {
  key: Buffer | null;
  value: Buffer;
  headers?: IHeaders;
}

/** Produces the records to partition 0 in one request: the mapping fetches them together, so they make one batch. */
export async function produceOneBatch(brokers: string, topic: string, records: SourceRecord[]) {
  const producer = (await createKafka({ KAFKA_BROKERS: brokers })).producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: records.map((r) => ({ ...r, partition: 0 })) });
  await producer.disconnect();
}

/** A started emulator of one topic's mapping that retries fast and sends what it gives up on to `onFailure`; stop it when done. */
export async function startEmulator(
  brokers: string,
  topic: string,
  handler: Handler,
  onFailure: OnFailureDestination,
  settings: Partial<MappingSettings> = {},
) {
  const emulator = new EventSourceMappingEmulator({
    kafka: await createKafka({ KAFKA_BROKERS: brokers }),
    topic,
    bootstrapServers: brokers,
    handler,
    retryDelayMs: 50,
    onFailure,
    settings: { topics: [topic], batchSize: 50, maxBatchingWindowSeconds: 0, ...settings },
  });
  await emulator.start();
  return emulator;
}

/** Waits for `done`, failing at once with the emulator's error, or after `timeoutMs`. */
export async function until(done: () => boolean, emulator: EventSourceMappingEmulator, timeoutMs = 30_000) {
  for (const end = Date.now() + timeoutMs; !done(); await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (emulator.error) throw emulator.error;
    if (Date.now() > end) throw new Error('timed out waiting for the emulator');
  }
}

/** A handler that fails every invocation. */
export const failAlways: Handler = async () => {
  throw new Error('always');
};
