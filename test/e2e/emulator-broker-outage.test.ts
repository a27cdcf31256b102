import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSourceMappingEmulator } from '../../local/esm/emulator.js';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../local/kafka/embedded-kafka.js';
import { produce, uniqueTopic } from '../support/kafka.js';

let cluster: EmbeddedKafka | undefined;
let emulator: EventSourceMappingEmulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  await cluster?.stop();
  [emulator, cluster] = [undefined, undefined];
});

/** Waits until `done()` holds; fails naming `what` after `timeoutMs`. */
async function until(what: string, done: () => boolean, timeoutMs: number) {
  for (const giveUpAt = Date.now() + timeoutMs; !done(); await new Promise((resolve) => setTimeout(resolve, 50))) {
    if (emulator?.error) throw emulator.error;
    if (Date.now() > giveUpAt) throw new Error(`timed out after ${timeoutMs / 1_000} s waiting for ${what}`);
  }
}

describe('event source mapping emulator, a broker going down and coming back', () => {
  it('fetches the partitions of a broker that came back, without waiting for kafkajs’s 5-minute metadata refresh', async () => {
    cluster = await startEmbeddedKafka({ brokers: 3 });
    const brokers = cluster.brokers.join(',');
    const topic = uniqueTopic('e2e-outage');
    await cluster.createTopic(topic, 3);

    // The consumer's own log says which brokers it fetches from and which is its group coordinator.
    const logs: LogEntry['log'][] = [];
    const kafka = new Kafka({
      clientId: 'outage',
      brokers: cluster.brokers,
      logLevel: logLevel.DEBUG,
      logCreator:
        () =>
        ({ log }) =>
          void logs.push(log),
    });
    const fetchingFrom = () => (logs.findLast((l) => /^Created \d+ fetchers$/.test(l.message))?.nodeIds as string[] | undefined) ?? [];
    const coordinator = () => logs.findLast((l) => l.message === 'Found group coordinator')?.nodeId as number | undefined;

    const seen = new Set<string>();
    emulator = new EventSourceMappingEmulator({
      kafka,
      topic,
      bootstrapServers: brokers,
      retryDelayMs: 50,
      settings: { topics: [topic], batchSize: 10, maxBatchingWindowSeconds: 0 },
      handler: async (event) => {
        for (const records of Object.values((event as { records: Record<string, Array<{ partition: number; offset: number }>> }).records))
          for (const r of records) seen.add(`${r.partition}@${r.offset}`);
        return { batchItemFailures: [] };
      },
    });
    await emulator.start();
    await produce(
      brokers,
      topic,
      [0, 1, 2].map((partition) => ({ value: '{}', partition })),
    );
    await until('the first record of each partition', () => seen.size === 3, 60_000);

    // A broker that leads a partition and is not the group's coordinator (whose loss makes the
    // group rejoin, which refreshes the metadata anyway).
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    await admin.disconnect();
    const { partitionId: partition, leader } = metadata!.partitions.find((p) => p.leader !== coordinator())!;

    await cluster.setBrokerDown(leader);
    await until(
      `the consumer to fetch without broker ${leader}`,
      () => fetchingFrom().length > 0 && !fetchingFrom().includes(String(leader)),
      30_000,
    );
    await cluster.setBrokerUp(leader);
    await produce(brokers, topic, [{ value: '{}', partition }]);
    // kafkajs's default metadata age would leave the partition unfetched for 5 minutes.
    await until(`partition ${partition} led by broker ${leader}, back up, to be fetched`, () => seen.has(`${partition}@1`), 60_000);
    expect(fetchingFrom()).toContain(String(leader));
  }, 180_000);
});

describe('event source mapping emulator, stopped while kafkajs handles a crash', () => {
  it('stays stopped: no member of the old consumer is left in the group holding partitions nobody fetches', async () => {
    cluster = await startEmbeddedKafka({ brokers: 2 });
    const brokers = cluster.brokers.join(',');
    const topic = uniqueTopic('e2e-crash-stop');
    await cluster.createTopic(topic, 2);
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    // No retries: the first error of the fetch loop crashes the consumer, and kafkajs restarts it
    // (a crash it can retry). The chaos run's pollers restart exactly so, at any moment.
    const logs: LogEntry['log'][] = [];
    let crashed: (() => void) | undefined;
    const kafka = new Kafka({
      clientId: 'crash-stop',
      brokers: cluster.brokers,
      retry: { retries: 0, initialRetryTime: 300 },
      logLevel: logLevel.DEBUG,
      logCreator:
        () =>
        ({ log }) => {
          logs.push(log);
          if (log.message.startsWith('Crash:')) crashed?.();
        },
    });
    const settings = { topics: [topic], batchSize: 10, maxBatchingWindowSeconds: 0 };
    let invoking = false;
    const first = new EventSourceMappingEmulator({
      kafka,
      topic,
      bootstrapServers: brokers,
      retryDelayMs: 50,
      settings,
      sessionTimeoutMs: 6_000,
      handler: async () => {
        invoking = true;
        await sleep(1_500);
        return { batchItemFailures: [] };
      },
    });
    emulator = first;
    await first.start();
    await produce(
      brokers,
      topic,
      [0, 1].flatMap((partition) => Array.from({ length: 20 }, () => ({ value: '{}', partition }))),
    );
    await until('the first invocation', () => invoking, 30_000);

    // The group coordinator goes down during an invocation: its commit fails and the consumer
    // crashes. The mapping is stopped at that moment, while kafkajs waits for its own disconnect.
    const stopped = new Promise<void>((resolve) => (crashed = () => void first.stop().then(resolve)));
    await cluster.setBrokerDown(logs.findLast((l) => l.message === 'Found group coordinator')!.nodeId as number);
    await Promise.race([stopped, sleep(30_000).then(() => Promise.reject(new Error('the consumer did not crash within 30 s')))]);
    for (let id = 1; id <= 2; id++) await cluster.setBrokerUp(id);

    // The next pollers (a new consumer in the same group, as in the chaos run) get every partition.
    const seen = new Set<string>();
    emulator = new EventSourceMappingEmulator({
      kafka,
      topic,
      bootstrapServers: brokers,
      retryDelayMs: 50,
      settings,
      sessionTimeoutMs: 6_000,
      handler: async (event) => {
        for (const records of Object.values((event as { records: Record<string, Array<{ partition: number; offset: number }>> }).records))
          for (const r of records) seen.add(`${r.partition}@${r.offset}`);
        return { batchItemFailures: [] };
      },
    });
    await emulator.start();
    await produce(
      brokers,
      topic,
      [0, 1].map((partition) => ({ value: '{}', partition })),
    );
    // kafkajs 2.2.4 restarted the stopped consumer after the crash: it joined the group, took a
    // partition and fetched it for a mapping that no longer invokes anything.
    await until('the new records of both partitions', () => seen.has('0@20') && seen.has('1@20'), 30_000);
    expect(logs.some((l) => l.message === 'Not restarting the consumer: it was stopped')).toBe(true);
    expect(first.error).toBeUndefined(); // a crash kafkajs restarts from is not the mapping's end
  }, 180_000);
});
