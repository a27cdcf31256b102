import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { buildKafkaEvent, type BrokerRecord, type EventSource } from './lambda-event.js';
import type { EmulatorStats, InvocationReport } from './emulator-stats.js';
import { lambdaContext, localFunctionArn } from './lambda-context.js';
import { MAX_RETRIES_WITH_DESTINATION, type EffectiveMappingSettings } from '../../src/mapping/mapping-settings.js';
import type { FailureCondition } from './on-failure-destinations.js';
import type { EmulatorOptions } from './emulator-options.js';
import { firstOffsets } from './broker-records.js';
import { ignoredResponse, parseResponse } from './lambda-response.js';
import { EmulatorError, InvocationTimeoutError } from '../errors.js';
import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import type { TopicStats } from '../../src/runtime/telemetry.js';
import { CHANNELS } from '../../src/contract/index.js';

/** The mapping a {@link BatchInvoker} works for: who it is, and how it stops consuming. */
export interface InvokingMapping {
  readonly options: EmulatorOptions;
  readonly settings: EffectiveMappingSettings;
  readonly stats: EmulatorStats;
  readonly functionName: string;
  readonly mappingUuid: string;
  /** How events and on-failure records name the cluster. */
  readonly source: EventSource & { readonly bootstrapServers: string };
  /** Stopping: a batch not decided yet is not retried, and stays uncommitted. */
  stopping(): boolean;
  /** The on-failure destination could not take a discarded batch: the mapping stops consuming, with this error. */
  stopConsuming(error: EmulatorError): void;
}

/**
 * Invokes the function with a batch as Lambda's mapping does (record age, timeout, the
 * response applied), and what the mapping does when the invocation fails: retries,
 * bisection, discarding to the on-failure destination. Every method returns the partitions
 * to redeliver from (none: all decided).
 */
export class BatchInvoker {
  /** What the runtime reports per invocation, by request id (invocations run concurrently). */
  readonly #reports = new Map<string, InvocationReport>();
  readonly #onDeadLetter = (message: unknown) => {
    const envelope = message as DeadLetterEnvelope;
    this.#reports.get(envelope.source.requestId)?.deadLetters.push(envelope);
  };
  readonly #onStats = (message: unknown) => {
    const { requestId, stats } = message as { requestId: string; stats: Map<string, TopicStats> };
    const report = this.#reports.get(requestId);
    if (report) for (const t of stats.values()) report.retried += t.retried;
  };

  constructor(private readonly mapping: InvokingMapping) {}

  /** Listens to what the runtime reports (its dead letters and retries), for the stats. */
  listen(): void {
    subscribe(CHANNELS.deadLetterSent, this.#onDeadLetter);
    subscribe(CHANNELS.invocationStats, this.#onStats);
  }

  unlisten(): void {
    unsubscribe(CHANNELS.deadLetterSent, this.#onDeadLetter);
    unsubscribe(CHANNELS.invocationStats, this.#onStats);
  }

  /** Invokes until success or the retry policy gives up. */
  async invokeWithRetries(batch: BrokerRecord[], attempt: number): Promise<Map<string, number>> {
    const { settings, stats, options } = this.mapping;
    // Lambda never sends a record older than MaximumRecordAgeInSeconds to the function.
    const { maxRecordAgeSeconds, bisectBatchOnError } = settings;
    const tooOld = maxRecordAgeSeconds > 0 ? batch.filter((r) => Date.now() - (r.timestamp ?? 0) > maxRecordAgeSeconds * 1_000) : [];
    // Not handed over to the destination: the whole batch stays uncommitted.
    if (tooOld.length > 0 && (await this.discard(tooOld, 'MaximumRecordAgeExceeded', attempt)).size > 0) return firstOffsets(batch);
    const records = tooOld.length > 0 ? batch.filter((r) => !tooOld.includes(r)) : batch;
    if (records.length === 0) return new Map();
    const outcome = await this.#invoke(records);
    if (outcome.ok) return outcome.redeliverFrom;
    stats.failedInvocations++;
    if (attempt >= this.#retryLimit()) return this.discard(records, 'RetryAttemptsExhausted', attempt + 1);
    await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 500));
    if (this.mapping.stopping()) return firstOffsets(records); // not decided: the next member delivers it again
    stats.batchRetried += records.length;
    if (bisectBatchOnError && records.length > 1) {
      const half = Math.ceil(records.length / 2);
      const merged = new Map<string, number>();
      for (const part of [records.slice(0, half), records.slice(half)]) {
        for (const [id, offset] of await this.invokeWithRetries(part, attempt + 1)) {
          merged.set(id, Math.min(merged.get(id) ?? offset, offset));
        }
      }
      return merged;
    }
    return this.invokeWithRetries(records, attempt + 1);
  }

  // Infinite retries with an on-failure destination: Lambda stops after 10.
  #retryLimit(): number {
    const { retryAttempts } = this.mapping.settings;
    if (retryAttempts >= 0) return retryAttempts;
    return this.mapping.options.onFailure ? MAX_RETRIES_WITH_DESTINATION : Number.POSITIVE_INFINITY;
  }

  async #invoke(records: BrokerRecord[]): Promise<{ ok: true; redeliverFrom: Map<string, number> } | { ok: false }> {
    const { options, settings, stats } = this.mapping;
    const event = buildKafkaEvent(records, this.mapping.source);
    const timeoutMs = options.functionTimeoutMs ?? 60_000;
    const context = lambdaContext(timeoutMs, this.mapping.functionName);
    const report: InvocationReport = { deadLetters: [], retried: 0 };
    this.#reports.set(context.awsRequestId, report);
    stats.invocations++;
    let timer: NodeJS.Timeout | undefined;
    // At the timeout the invocation has failed, and its sandbox is stopped (the abort).
    const sandbox = new AbortController();
    try {
      const response = await Promise.race([
        options.handler(event, context, sandbox.signal),
        new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(() => {
              const error = new InvocationTimeoutError(timeoutMs);
              sandbox.abort(error);
              reject(error);
            }, timeoutMs)),
        ),
      ]);
      // Without partial batch responses Lambda commits the whole batch, whatever the answer says.
      const honoured = settings.reportBatchItemFailures;
      const reported = honoured ? parseResponse(response, records) : ignoredResponse(response, records);
      stats.settle(records, reported, honoured, report);
      return { ok: true, redeliverFrom: honoured ? reported : new Map() };
    } catch (error) {
      // middy answers its own TimeoutError just before the deadline: a time-out all the same.
      if (error instanceof InvocationTimeoutError || (error as Error)?.name === 'TimeoutError') stats.timeouts++;
      return { ok: false };
    } finally {
      clearTimeout(timer);
      this.#reports.delete(context.awsRequestId);
    }
  }

  /**
   * Hands records the mapping gives up on to the on-failure destination; returns the partitions
   * to redeliver from: none once the destination holds them, all of them when it could not take
   * them (then the mapping stops consuming, and they stay uncommitted: nothing is lost).
   */
  async discard(records: BrokerRecord[], condition: FailureCondition, invokeCount: number): Promise<Map<string, number>> {
    const { options, stats } = this.mapping;
    const destination = options.onFailure;
    try {
      await destination?.send({
        records,
        condition,
        approximateInvokeCount: invokeCount,
        functionArn: `${localFunctionArn(this.mapping.functionName)}:$LATEST`,
        source: this.mapping.source,
        mappingUuid: this.mapping.mappingUuid,
        kafka: options.kafka,
        discardedAt: new Date(),
      });
    } catch (error) {
      const where = [...firstOffsets(records)].map(([id, offset]) => `${id} from offset ${offset}`).join(', ');
      this.mapping.stopConsuming(
        new EmulatorError(
          `The event source mapping emulator for ${options.topic} could not write ${records.length} discarded record(s) (${where}) to its on-failure destination ${destination!.target}: ${(error as Error).message}. ` +
            "They stay uncommitted and the emulator stopped consuming: make the destination writable (an existing bucket or queue; for kafka://, a topic that exists on the mapping's cluster) and start a new emulator (npm start: run it again); it resumes from the committed offsets.",
          { cause: error },
        ),
      );
      return firstOffsets(records);
    }
    stats.discarded += records.length;
    for (const r of records) stats.decide(`${r.topic}-${r.partition}`, r.offset);
    return new Map();
  }
}
