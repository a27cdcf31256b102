import type { Consumer, EachBatchPayload } from 'kafkajs';
import { DEMO_CLUSTER_ARN, type EventSource } from './lambda-event.js';
import { InvocationBatcher, type Fetch, type Invocation } from './invocation-batcher.js';
import { EmulatorStats } from './emulator-stats.js';
import {
  MAPPING_DEFAULTS,
  effectiveMappingSettings,
  kafkaFailureTopic,
  type EffectiveMappingSettings,
} from '../../src/mapping/mapping-settings.js';
import { mappingUuidOf } from './on-failure-destinations.js';
import type { EmulatorOptions } from './emulator-options.js';
import { firstOffsets, toBrokerRecord } from './broker-records.js';
import { BatchInvoker } from './batch-invoker.js';
import { EmulatorError } from '../errors.js';
import { mappingConsumerGroupId } from '../../src/runtime/consumer-group.js';
import { compileFilters, recordPassesFilters, type CompiledFilter } from '../../src/mapping/event-filter.js';

export type { EmulatorOptions, Handler } from './emulator-options.js';

/** The mapping's `State` as Lambda's API reports it, for the states enabling and disabling go through. */
export type MappingState = 'Enabled' | 'Disabling' | 'Disabled' | 'Enabling';

/**
 * kafkajs fetches only from the brokers its cached metadata lists, and a broker that was down
 * at the last refresh is not listed: the partitions it leads are not fetched again until the
 * next refresh, 5 minutes later by default, even once it is back (the embedded cluster keeps a
 * downed broker's partitions on it, as a cluster with one replica does). Refreshing this often
 * bounds that pause after a broker comes back, for one Metadata request per interval.
 */
const METADATA_MAX_AGE_MS = 5_000;

/**
 * An emulation of Lambda's Kafka event source mapping: a kafkajs consumer in the mapping's
 * group that batches records by the mapping's rules (batch size, batching window, 6 MB
 * payload, several partitions per event), hands each batch to its {@link BatchInvoker} (the
 * invocation, retries, on-failure destination), and commits what was decided. Its pollers start
 * and stop as the mapping is enabled and disabled.
 */
export class EventSourceMappingEmulator {
  readonly stats = new EmulatorStats();
  /** The mapping's pollers: a new one each time the mapping is enabled (disabling disconnects it, as Lambda's pollers stop). */
  #consumer: Consumer | undefined;
  readonly #settings: EffectiveMappingSettings;
  readonly groupId: string;
  /** The mapping's UUID (S3 destinations file objects under `aws/lambda/<uuid>/`): the same for every emulator of this group. */
  readonly mappingUuid: string;
  readonly #filters: CompiledFilter[];
  /** How events and on-failure records name the cluster. */
  readonly #source: EventSource & { readonly bootstrapServers: string };
  readonly #batcher: InvocationBatcher;
  readonly #invoker: BatchInvoker;
  /** Set by {@link stop} and while disabled: nothing new is invoked; what was not decided stays uncommitted. */
  #stopping = false;
  /** Set by {@link stop}: for good. */
  #stopped = false;
  #started = false;
  /** The mapping's `Enabled`, as last set. */
  #enabled: boolean;
  /** The disable or enable under way, if any (the mapping is then Disabling or Enabling). */
  #transition: Promise<void> | undefined;
  #error: Error | undefined;

  constructor(private readonly options: EmulatorOptions) {
    // The same validation and defaults as synth: what `cdk deploy` would refuse, this refuses.
    this.#settings = effectiveMappingSettings(options.settings);
    this.#filters = compileFilters(this.#settings.filters ?? []);
    const { consumerGroupId } = this.#settings;
    this.groupId = consumerGroupId ? mappingConsumerGroupId(consumerGroupId, options.topic) : `lambda-esm-${options.topic}`;
    this.mappingUuid = mappingUuidOf(this.groupId);
    const windowMs = (this.#settings.maxBatchingWindowSeconds ?? MAPPING_DEFAULTS.maxBatchingWindowSeconds) * 1_000;
    this.#batcher = new InvocationBatcher({ batchSize: this.#settings.batchSize, windowMs }, (fetches, invocations) =>
      this.#deliver(fetches, invocations),
    );
    this.#source = {
      bootstrapServers: options.bootstrapServers,
      ...(options.eventSourceArn ? { eventSourceArn: options.eventSourceArn } : {}),
    };
    if (options.onFailure) kafkaFailureTopic(options.onFailure.target, [...this.#settings.topics, options.topic]);
    this.#invoker = new BatchInvoker({
      options,
      settings: this.#settings,
      stats: this.stats,
      functionName: this.functionName,
      mappingUuid: this.mappingUuid,
      source: this.#source,
      stopping: () => this.#stopping,
      stopConsuming: (error) => {
        this.#error ??= error;
        this.#stopping = true;
        this.pause();
      },
    });
    this.#enabled = options.enabled ?? true;
  }

  #newConsumer(): Consumer {
    const consumer = this.options.kafka.consumer({
      groupId: this.groupId,
      metadataMaxAge: METADATA_MAX_AGE_MS,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: 4 * 1024 * 1024,
      allowAutoTopicCreation: false,
      ...(this.options.sessionTimeoutMs ? { sessionTimeout: this.options.sessionTimeoutMs } : {}),
    });
    // kafkajs stops a consumer for good (no restart) on an error it cannot retry, such as a
    // fetched batch it cannot decode; the emulator must not then wait for records forever.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart)
        this.#error = new EmulatorError(`The event source mapping emulator for ${this.options.topic} stopped: ${payload.error.message}`, {
          cause: payload.error,
        });
    });
    return consumer;
  }

  /** The topic this mapping reads. */
  get topic(): string {
    return this.options.topic;
  }

  /** The function this mapping invokes. */
  get functionName(): string {
    return this.options.functionName ?? 'consumer';
  }

  /** The cluster's ARN, as events name it. */
  get eventSourceArn(): string {
    return this.#source.eventSourceArn ?? DEMO_CLUSTER_ARN;
  }

  /** The mapping's `State` (Lambda's ListEventSourceMappings): Disabling until the invocations in flight finished. */
  get state(): MappingState {
    if (this.#enabled) return this.#transition ? 'Enabling' : 'Enabled';
    return this.#transition ? 'Disabling' : 'Disabled';
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * The mapping's `Enabled` (Lambda's UpdateEventSourceMapping). Disabling stops polling as
   * {@link stop} does (invocations in flight finish; what they leave undecided or report for
   * redelivery stays uncommitted); enabling starts new pollers, which fetch from the committed
   * offsets. Resolves once the mapping is Disabled or Enabled; before {@link start}, only sets
   * what start does.
   */
  async setEnabled(enabled: boolean): Promise<void> {
    if (enabled === this.#enabled) return this.#transition;
    this.#enabled = enabled;
    // Not started: start() does it. Stopped: it polls no more, but keeps what the mapping should be, for the emulator replacing it.
    if (this.#stopped || !this.#started) return;
    const previous = this.#transition ?? Promise.resolve();
    const transition = previous.then(() => (enabled ? this.#poll() : this.#halt()));
    this.#transition = transition;
    try {
      await transition;
    } finally {
      if (this.#transition === transition) this.#transition = undefined;
    }
  }

  /**
   * Why the emulator stopped consuming, if it did (for example: a fetched batch it cannot
   * decode, named by topic, partition, offset and cause; a discarded batch its on-failure
   * destination could not take); anything waiting on it should throw this.
   */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Joins the mapping's group and consumes (unless the mapping is disabled); once stopped, an emulator stays stopped (start a new one). */
  async start(): Promise<void> {
    if (this.#stopped || this.#started) throw this.#stoppedError();
    this.#started = true;
    this.#invoker.listen();
    if (this.#enabled) await this.#poll();
  }

  #stoppedError(): EmulatorError {
    return new EmulatorError(
      `This event source mapping emulator for ${this.options.topic} was ${this.#stopped ? 'stopped' : 'started already'}${this.#error ? ` (${this.#error.message})` : ''}: create a new EventSourceMappingEmulator to consume again; it resumes from the group's committed offsets.`,
    );
  }

  /** New pollers: join the group and fetch from its committed offsets. */
  async #poll(): Promise<void> {
    this.#stopping = false;
    const consumer = (this.#consumer = this.#newConsumer());
    const position = this.#settings.startingPosition;
    await consumer.connect();
    await consumer.subscribe({ topic: this.options.topic, fromBeginning: position !== 'LATEST' });
    if (position === 'AT_TIMESTAMP') await this.#seekToTimestamp(consumer, this.#settings.startingPositionTimestamp! * 1_000);
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1_000,
      eachBatch: (payload) => this.#onFetch(payload),
    });
  }

  /** Stops polling: invocations in flight finish, nothing new is invoked, what was not decided stays uncommitted. */
  async #halt(): Promise<void> {
    this.#stopping = true;
    for (const f of this.#batcher.drain()) f.done(f.records[0]!.offset);
    await this.#consumer?.disconnect();
    this.#consumer = undefined;
  }

  /** Stops fetching (what is in flight finishes); {@link resume} carries on from there. */
  pause(): void {
    this.#consumer?.pause([{ topic: this.options.topic }]);
  }

  resume(): void {
    this.#consumer?.resume([{ topic: this.options.topic }]);
  }

  /**
   * Stops polling, as when the mapping's pollers restart: invocations in flight finish, nothing
   * new is invoked, and what was not decided is left uncommitted for the group's next member.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#transition?.catch(() => undefined);
    await this.#halt();
    this.#invoker.unlisten();
  }

  async #seekToTimestamp(consumer: Consumer, ms: number): Promise<void> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsetsByTimestamp(this.options.topic, ms);
    await admin.disconnect();
    const committed = await this.#committedOffsets();
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const o of offsets)
        if (!committed.has(o.partition)) consumer.seek({ topic: this.options.topic, partition: o.partition, offset: o.offset });
    });
  }

  async #committedOffsets(): Promise<Set<number>> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    const [topic] = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.options.topic] });
    await admin.disconnect();
    return new Set((topic?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => p.partition));
  }

  // kafkajs hands over one partition's fetch; it waits here until every record in it has
  // been decided, then resolves and commits exactly up to where the mapping would.
  async #onFetch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    if (batch.messages.length === 0 || this.#stopping) return;
    const id = `${batch.topic}-${batch.partition}`;
    const commit = async (nextOffset: number) => {
      const offset = { topic: batch.topic, partition: batch.partition, offset: String(nextOffset) };
      // consumer.commitOffsets (which retries) does nothing once stop() began: what the last
      // invocations decided is committed through the batch's own commit, else the group's next
      // member would get it again.
      if (this.#stopping) await commitOffsetsIfNecessary({ topics: [{ topic: offset.topic, partitions: [offset] }] });
      else await this.#consumer!.commitOffsets([offset]);
      this.stats.committed(id, nextOffset);
    };
    this.stats.fetched(id, Number(batch.highWatermark));
    const fetched = batch.messages.map((m) => toBrokerRecord(batch.topic, batch.partition, m));
    // Lambda filters each record before batching: one that matches no filter is never sent to
    // the function, counts toward neither batch size nor payload, and is committed.
    const records = this.#filters.length === 0 ? fetched : fetched.filter((r) => recordPassesFilters(this.#filters, r));
    this.stats.filtered += fetched.length - records.length;
    if (records.length === 0) {
      resolveOffset(String(fetched.at(-1)!.offset)); // kafkajs fetches from what was resolved, not committed
      await commit(fetched.at(-1)!.offset + 1);
      await heartbeat();
      return;
    }
    // The group hears from this member while its records wait and run (kafkajs sends at most one heartbeat per interval).
    const beat = setInterval(() => void heartbeat().catch(() => undefined), 1_000);
    const nextOffset = await new Promise<number>((done) => this.#batcher.add({ id, records, done })).finally(() => clearInterval(beat));
    // Filtered records after the last one decided are committed with it.
    const next = nextOffset > records.at(-1)!.offset ? fetched.at(-1)!.offset + 1 : nextOffset;
    if (next > fetched[0]!.offset) resolveOffset(String(next - 1));
    await commit(next);
    await heartbeat();
  }

  // Runs a set of fetches' invocations in order; a partition rewound by one is not invoked again in this set.
  async #deliver(fetches: readonly Fetch[], invocations: readonly Invocation[]): Promise<void> {
    const next = new Map<string, number>(fetches.map((f) => [f.id, f.records.at(-1)!.offset + 1]));
    const rewound = new Set<string>();
    const rewind = (redeliverFrom: Map<string, number>) => {
      for (const [id, offset] of redeliverFrom) {
        rewound.add(id);
        next.set(id, Math.min(next.get(id) ?? offset, offset));
      }
    };
    for (const invocation of invocations) {
      const todo = rewound.size === 0 ? invocation.records : invocation.records.filter((r) => !rewound.has(`${r.topic}-${r.partition}`));
      if (todo.length === 0) continue;
      if (this.#stopping) {
        rewind(firstOffsets(todo));
        continue;
      }
      // A record that alone exceeds the invoke payload limit is never sent to the function.
      if (invocation.oversized) {
        rewind(await this.#invoker.discard(todo, 'MaximumPayloadSizeExceeded', 0));
        continue;
      }
      rewind(await this.#invoker.invokeWithRetries(todo, 0));
    }
    for (const f of fetches) f.done(next.get(f.id)!);
  }
}
