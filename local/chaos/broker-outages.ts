// The outage rhythm an operator of a flaky cluster sees (issue 30): the embedded cluster (3
// brokers), a topic of 6 partitions filled up front, a consumer behind the event source mapping
// emulator (batch 100, function timeout 2 s, 2% of invocations running past it), one random
// broker down for 1.5 s every 4 s, and the mapping's pollers replaced once after a third of the
// records. Nothing outside the emulator restarts it: the run reports whether every record was
// processed within `settleMs` of the last outage.
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { EventSourceMappingEmulator } from '../esm/emulator.js';
import { startEmbeddedKafka } from '../kafka/embedded-kafka.js';
import { assertKafkajsPatched } from '../../src/kafka/kafkajs-patches.js';

export interface BrokerOutagesOptions {
  readonly records: number;
  /** @default 3 */
  readonly brokers?: number;
  /** @default 6 */
  readonly partitions?: number;
  /** @default 2000 */
  readonly functionTimeoutMs?: number;
  /** How long the function works on an invocation that does not hang. @default 500 ms */
  readonly invocationMs?: number;
  /** Share of invocations that run past the timeout. @default 0.02 */
  readonly hangShare?: number;
  /** The consumer group's session timeout. @default kafkajs's, 30 s */
  readonly sessionTimeoutMs?: number;
  /** @default 4000 */
  readonly outageEveryMs?: number;
  /** @default 1500 */
  readonly outageMs?: number;
  /** Outages go on until every record is processed, or for this long at most. @default 600 s */
  readonly outagesForMs?: number;
  /** After the last outage, the consumer has this long to finish. @default 180 s */
  readonly settleMs?: number;
  /** Progress lines, and the kafkajs log at `kafkaLogLevel`. @default none */
  readonly log?: (line: string) => void;
  /** @default logLevel.NOTHING */
  readonly kafkaLogLevel?: logLevel;
  /** Seed of the outages' and hangs' choices. @default 1 */
  readonly seed?: number;
}

export interface BrokerOutagesSummary {
  readonly produced: number;
  /** Distinct records the function finished. */
  readonly processed: number;
  /** Every record processed before the settle time ran out. */
  readonly complete: boolean;
  readonly outages: number;
  /** kafkajs consumer crashes (it restarts from those by itself). */
  readonly crashes: number;
  /** Invocations, and those that ran past the timeout. */
  readonly invocations: number;
  readonly timeouts: number;
  /** The longest time no new record was processed while some remained. */
  readonly longestStallMs: number;
  /** From the emulator's start to the last record processed (or to giving up). */
  readonly durationMs: number;
  /** The emulator's own error, when it stopped for good. */
  readonly error?: string;
}

export async function runBrokerOutages(options: BrokerOutagesOptions): Promise<BrokerOutagesSummary> {
  const brokerCount = options.brokers ?? 3;
  const partitions = options.partitions ?? 6;
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed ?? 1);
  const cluster = await startEmbeddedKafka({ brokers: brokerCount });
  const topic = `outages-${Date.now()}`;
  let emulator: EventSourceMappingEmulator | undefined;
  let crashes = 0;
  try {
    await cluster.createTopic(topic, partitions);
    assertKafkajsPatched(); // its own client (for its logger), not createKafka's: patches 006 and 007 are what it exercises
    const kafka = new Kafka({
      clientId: 'broker-outages',
      brokers: cluster.brokers,
      logLevel: options.kafkaLogLevel ?? logLevel.NOTHING,
      logCreator:
        () =>
        ({ namespace, label, log: entry }: LogEntry) => {
          if (entry.message.startsWith('Crash:')) crashes++;
          const { message, timestamp: _, logger: __, ...extra } = entry;
          log(`kafkajs ${label} ${namespace}: ${message} ${JSON.stringify(extra)}`);
        },
    });
    await produceAll(kafka, topic, partitions, options.records);
    log(`produced ${options.records} records to ${topic} (${partitions} partitions, ${brokerCount} brokers)`);

    const processed = new Set<string>();
    let invocations = 0;
    let timeouts = 0;
    const newEmulator = () =>
      new EventSourceMappingEmulator({
        kafka,
        topic,
        bootstrapServers: cluster.brokers.join(','),
        functionTimeoutMs: options.functionTimeoutMs ?? 2_000,
        ...(options.sessionTimeoutMs ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
        settings: { topics: [topic], batchSize: 100 },
        handler: async (event, _context, signal) => {
          invocations++;
          if (random() < (options.hangShare ?? 0.02)) {
            timeouts++;
            await new Promise((resolve) => signal.addEventListener('abort', resolve));
            return undefined;
          }
          await sleep(options.invocationMs ?? 500);
          for (const records of Object.values((event as KafkaEvent).records))
            for (const r of records) processed.add(`${r.partition}@${r.offset}`);
          return { batchItemFailures: [] };
        },
      });
    const started = Date.now();
    emulator = newEmulator();
    await emulator.start();

    let outages = 0;
    let replaced = false;
    const done = () => processed.size >= options.records;
    const outagesUntil = started + (options.outagesForMs ?? 600_000);
    const progress = setInterval(
      () =>
        log(
          `${Math.round((Date.now() - started) / 1_000)} s: ${processed.size} of ${options.records} processed, ${outages} outages, ${crashes} crashes`,
        ),
      5_000,
    );
    let longestStallMs = 0;
    let [seen, movedAt] = [0, started];
    const stalls = setInterval(() => {
      if (processed.size !== seen || done()) [seen, movedAt] = [processed.size, Date.now()];
      longestStallMs = Math.max(longestStallMs, Date.now() - movedAt);
    }, 100);
    try {
      while (!done() && Date.now() < outagesUntil) {
        const broker = 1 + Math.floor(random() * brokerCount);
        await cluster.setBrokerDown(broker);
        outages++;
        await sleep(options.outageMs ?? 1_500);
        await cluster.setBrokerUp(broker);
        // The mapping's pollers restart once: a new member of the group takes over.
        if (!replaced && processed.size >= options.records / 3) {
          replaced = true;
          log(`replacing the emulator at ${processed.size} processed`);
          await emulator.stop();
          emulator = newEmulator();
          await emulator.start();
        }
        await sleep((options.outageEveryMs ?? 4_000) - (options.outageMs ?? 1_500));
      }
      const giveUpAt = Date.now() + (options.settleMs ?? 180_000);
      while (!done() && !emulator.error && Date.now() < giveUpAt) await sleep(100);
    } finally {
      clearInterval(progress);
      clearInterval(stalls);
    }
    const error = emulator.error?.message;
    return {
      produced: options.records,
      processed: processed.size,
      complete: done(),
      outages,
      crashes,
      invocations,
      timeouts,
      longestStallMs,
      durationMs: Date.now() - started,
      ...(error ? { error } : {}),
    };
  } finally {
    await emulator?.stop().catch(() => undefined);
    await cluster.stop();
  }
}

interface KafkaEvent {
  records: Record<string, Array<{ partition: number; offset: number }>>;
}

/** Fills the topic up front, round-robin over its partitions, in requests of 1,000 records. */
async function produceAll(kafka: Kafka, topic: string, partitions: number, records: number) {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const value = JSON.stringify({ order: 'x'.repeat(200) });
  for (let from = 0; from < records; from += 1_000) {
    const messages = Array.from({ length: Math.min(1_000, records - from) }, (_, i) => ({ value, partition: (from + i) % partitions }));
    await producer.send({ topic, acks: -1, messages });
  }
  await producer.disconnect();
}

/** mulberry32: the same outages and hangs for the same seed. */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
