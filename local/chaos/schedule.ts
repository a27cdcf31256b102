// The fault schedule: while it runs, one episode every `intervalMs`, in a fixed rotation, so
// that every kind of fault happens in every run (a few thousand records included), and the
// invocation faults all along. Stopping it heals everything (brokers up, no latency, no
// injected SQS/S3 errors, no invocation faults, the downstream back), as a Jepsen run heals before its final reads.
import { setTimeout as sleep } from 'node:timers/promises';
import type { EmbeddedKafka } from '../kafka/embedded-kafka.js';
import type { FaultProxy } from '../fault-proxy.js';
import type { HandlerFaults } from './handler-faults.js';

/** The kinds of fault, as the summary counts them. */
export const FAULT_KINDS = [
  'brokerDown',
  'brokerLatency',
  'sqsThrottled',
  'sqsErrors',
  'sqsSlow',
  'handlerErrors',
  'handlerTimeouts',
  'consumerRestarts',
  'replayCrashes',
  'downstreamOutage',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultCountsByKind = Record<FaultKind, number>;

export interface FaultScheduleOptions {
  readonly kafka: EmbeddedKafka;
  readonly brokers: number;
  readonly proxy: FaultProxy;
  readonly handlerFaults: HandlerFaults;
  /** Stops the mapping's pollers and starts them again; false when it could not (not counted). */
  readonly restartConsumer: () => Promise<boolean>;
  /** @default 1500 ms */
  readonly intervalMs?: number;
}

/** How long a broker stays down, or slow. */
const BROKER_FAULT_MS = 1_000;
const ADDED_RTT_MS = 250;
/** Calls each SQS/S3 episode spoils (throttled, 5xx, Failed[] entries, slow answers). */
const SQS_FAULTS_PER_EPISODE = 3;
const RESTART_EVERY_CYCLES = 4;
/**
 * How long the downstream stays out: longer than the local breaker's first cool-down (2 s), so
 * that it opens again on probation and backs off, as in a real outage.
 */
const DOWNSTREAM_OUTAGE_MS = 3_000;
/** How long an outage waits for its first failed record, at most. */
const OUTAGE_HIT_WAIT_MS = 15_000;
/** In one rotation of every few: with the breaker, each outage pauses the mapping for several seconds. */
const OUTAGE_EVERY_CYCLES = 3;

export class FaultSchedule {
  readonly #options: FaultScheduleOptions;
  readonly #episodes: Array<() => Promise<void>>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();
  #next = 0;
  #broker = 0;
  #brokerDown = 0;
  #brokerLatency = 0;
  #consumerRestarts = 0;
  /** Counted by the run, which kills the replay. */
  replayCrashes = 0;
  /** Full rotations of the episodes so far. */
  cycles = 0;

  constructor(options: FaultScheduleOptions) {
    this.#options = options;
    // The downstream outage second: a short run's records are consumed within its first episodes.
    this.#episodes = [
      () => this.#brokerOutage(),
      () => this.#downstreamOutage(),
      async () => this.spoilSqsCalls(),
      () => this.#brokerSlowness(),
      () => this.#consumerRestart(),
    ];
  }

  start(): void {
    this.#options.handlerFaults.enabled = true;
    this.#options.proxy.plan.slowMs = 1_500;
    this.#timer = setInterval(() => {
      this.#running = this.#running.then(() => this.#episode());
    }, this.#options.intervalMs ?? 1_500);
  }

  /** Ends the schedule and heals every fault (waits for the episode under way). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined; // episodes already queued do nothing
    this.#options.handlerFaults.enabled = false;
    await this.#running;
    this.#options.handlerFaults.downstreamDown = false;
    Object.assign(this.#options.proxy.plan, { throttle: 0, serverErrors: 0, partialFailures: 0, slow: 0 });
    await this.healBrokers();
  }

  /** Every broker up, without added latency, whatever an episode cut short (its error is only logged) left behind. */
  async healBrokers(): Promise<void> {
    for (let id = 1; id <= this.#options.brokers; id++) {
      await this.#options.kafka.setBrokerUp(id);
      await this.#options.kafka.setBrokerRtt(id, 0);
    }
  }

  get counts(): FaultCountsByKind {
    const proxy = this.#options.proxy.counts;
    const handler = this.#options.handlerFaults;
    return {
      brokerDown: this.#brokerDown,
      brokerLatency: this.#brokerLatency,
      sqsThrottled: proxy.throttled,
      sqsErrors: proxy.serverErrors + proxy.failedEntries,
      sqsSlow: proxy.slowAnswers,
      handlerErrors: handler.errors,
      handlerTimeouts: handler.timeouts,
      consumerRestarts: this.#consumerRestarts,
      replayCrashes: this.replayCrashes,
      downstreamOutage: handler.outages,
    };
  }

  async #episode() {
    if (this.#timer === undefined) return;
    const episode = this.#episodes[this.#next]!;
    this.#next = (this.#next + 1) % this.#episodes.length;
    await episode().catch((error: Error) => process.stderr.write(`chaos: an episode failed: ${error.message}\n`));
    if (this.#next === 0) this.cycles++;
  }

  #nextBroker(): number {
    this.#broker = (this.#broker % this.#options.brokers) + 1;
    return this.#broker;
  }

  async #brokerOutage() {
    const id = this.#nextBroker();
    await this.#options.kafka.setBrokerDown(id);
    this.#brokerDown++;
    await sleep(BROKER_FAULT_MS);
    await this.#options.kafka.setBrokerUp(id);
  }

  async #brokerSlowness() {
    const id = this.#nextBroker();
    await this.#options.kafka.setBrokerRtt(id, ADDED_RTT_MS);
    this.#brokerLatency++;
    await sleep(BROKER_FAULT_MS);
    await this.#options.kafka.setBrokerRtt(id, 0);
  }

  /**
   * The next SQS/S3 calls are throttled, fail (5xx, Failed[] entries) or answer slowly: budgets,
   * not time windows, so the next calls get them whether they come now or later.
   */
  spoilSqsCalls(): void {
    const { plan } = this.#options.proxy;
    plan.apis = 'all';
    for (const budget of ['throttle', 'serverErrors', 'partialFailures', 'slow'] as const)
      plan[budget] = Math.max(plan[budget] ?? 0, SQS_FAULTS_PER_EPISODE);
  }

  /**
   * Every record fails with an outage error, for a few seconds from the first record it fails (until
   * then the mapping may be paused, or its sandboxes still starting, and a short run would inject
   * none): one in the first rotation, then one in every few.
   */
  async #downstreamOutage() {
    if (this.cycles % OUTAGE_EVERY_CYCLES !== 0) return;
    const faults = this.#options.handlerFaults;
    const injected = faults.outages;
    faults.downstreamDown = true;
    for (let waited = 0; faults.outages === injected && waited < OUTAGE_HIT_WAIT_MS && this.#timer !== undefined; waited += 100)
      await sleep(100);
    await sleep(DOWNSTREAM_OUTAGE_MS);
    faults.downstreamDown = false;
  }

  // A new member waits for a rebalance (seconds): one restart in the first rotation, then one in every few.
  async #consumerRestart() {
    if (this.cycles % RESTART_EVERY_CYCLES !== 0) return;
    if (await this.#options.restartConsumer()) this.#consumerRestarts++;
  }
}
