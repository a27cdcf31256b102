import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { EventSourceMappingEmulator } from '../../local/esm/emulator';
import { startEmbeddedKafka, type EmbeddedKafka } from '../../local/kafka/embedded-kafka';
import { produce, uniqueTopic } from '../support/kafka';

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
    const kafka = new Kafka({ clientId: 'outage', brokers: cluster.brokers, logLevel: logLevel.DEBUG, logCreator: () => ({ log }) => void logs.push(log) });
    const fetchingFrom = () => (logs.findLast((l) => /^Created \d+ fetchers$/.test(l.message))?.nodeIds as string[] | undefined) ?? [];
    const coordinator = () => logs.findLast((l) => l.message === 'Found group coordinator')?.nodeId as number | undefined;

    const seen = new Set<string>();
    emulator = new EventSourceMappingEmulator({
      kafka, topic, bootstrapServers: brokers, retryDelayMs: 50,
      settings: { topics: [topic], batchSize: 10, maxBatchingWindowSeconds: 0 },
      handler: async (event) => {
        for (const records of Object.values((event as { records: Record<string, Array<{ partition: number; offset: number }>> }).records)) for (const r of records) seen.add(`${r.partition}@${r.offset}`);
        return { batchItemFailures: [] };
      },
    });
    await emulator.start();
    await produce(brokers, topic, [0, 1, 2].map((partition) => ({ value: '{}', partition })));
    await until('the first record of each partition', () => seen.size === 3, 60_000);

    // A broker that leads a partition and is not the group's coordinator (whose loss makes the
    // group rejoin, which refreshes the metadata anyway).
    const admin = kafka.admin();
    await admin.connect();
    const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
    await admin.disconnect();
    const { partitionId: partition, leader } = metadata!.partitions.find((p) => p.leader !== coordinator())!;

    await cluster.setBrokerDown(leader);
    await until(`the consumer to fetch without broker ${leader}`, () => fetchingFrom().length > 0 && !fetchingFrom().includes(String(leader)), 30_000);
    await cluster.setBrokerUp(leader);
    await produce(brokers, topic, [{ value: '{}', partition }]);
    // kafkajs's default metadata age would leave the partition unfetched for 5 minutes.
    await until(`partition ${partition} led by broker ${leader}, back up, to be fetched`, () => seen.has(`${partition}@1`), 60_000);
    expect(fetchingFrom()).toContain(String(leader));
  }, 180_000);
});
