import { channel } from 'node:diagnostics_channel';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CHANNELS, DEFAULT_METRICS_NAMESPACE, ENV } from '../contract/index.js';
import type { BlockedPartition } from './partition-blocks.js';

/** Each invocation's `{requestId, stats}` (per topic), for local tools (a no-op without subscribers). */
export const invocationStats = channel(CHANNELS.invocationStats);

/** What one invocation did for one topic. Counted in plain fields; published once. */
export interface TopicStats {
  received: number;
  processed: number;
  /** Attempts after the first, across records. */
  retried: number;
  deadLettered: number;
  redelivered: number;
  deadLetterErrors: number;
  /** Records not run because the idempotency ledger says their work is done. */
  skippedAsDone: number;
  /** Records whose work was done but whose "done" could not be written to the idempotency ledger. */
  doneNotRecorded: number;
  /** Of `redelivered`, records redelivered because of an outage (the breaker tripped, or was open). */
  redeliveredForOutage: number;
  /** Records not run because their key is parked (park-key). */
  parked: number;
  /** Keys parked anew behind a record that failed for good (park-key). */
  keysParked: number;
  /** 1 when this invocation opened the breaker of the topic's mapping. */
  breakerOpened: number;
  /** 1 when it had to open it but the Lambda API calls failed. */
  breakerOpenFailed: number;
  /** Partitions blocked (failureMode 'block'): each at a record that failed for good, redelivered from it. */
  blocked: number;
  bytes: number;
  maxRecordAgeMs: number;
}

/** Zeroed stats. The record runner keeps the last ones it counted in, for their layout (see record-runner.ts). */
export const emptyTopicStats = (): TopicStats => ({
  received: 0,
  processed: 0,
  retried: 0,
  deadLettered: 0,
  redelivered: 0,
  deadLetterErrors: 0,
  skippedAsDone: 0,
  doneNotRecorded: 0,
  redeliveredForOutage: 0,
  parked: 0,
  keysParked: 0,
  breakerOpened: 0,
  breakerOpenFailed: 0,
  blocked: 0,
  bytes: 0,
  maxRecordAgeMs: 0,
});

export interface TelemetryOptions {
  /** CloudWatch namespace. @default `POWERTOOLS_METRICS_NAMESPACE`, else 'KafkaConsumer' */
  readonly namespace?: string;
  /** The `service` dimension and log field. @default `POWERTOOLS_SERVICE_NAME`, else 'kafka-consumer' */
  readonly serviceName?: string;
}

/** Powertools Metrics (EMF) and Logger, with dimensions kept to service and topic. */
export class Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;

  /**
   * `published.ledger`: the handler has an idempotency ledger; `published.outage`: outage handling
   * is on; `published.block`: failureMode 'block'; `published.parking`: failureMode 'park-key';
   * their counts are published too.
   */
  constructor(
    options: TelemetryOptions = {},
    readonly published: { readonly ledger?: boolean; readonly outage?: boolean; readonly block?: boolean; readonly parking?: boolean } = {},
  ) {
    const serviceName = options.serviceName ?? process.env[ENV.serviceName] ?? 'kafka-consumer';
    const namespace = options.namespace ?? process.env[ENV.metricsNamespace] ?? DEFAULT_METRICS_NAMESPACE;
    this.logger = new Logger({ serviceName });
    this.metrics = new Metrics({ namespace, serviceName });
    this.#warnIfUnwatched('serviceName', serviceName, ENV.serviceName);
    this.#warnIfUnwatched('namespace', namespace, ENV.metricsNamespace);
  }

  /**
   * The KafkaConsumer construct sets these variables and alarms on (and graphs) what is
   * published under them: an option that differs would leave the alarms blind, so say so once,
   * at cold start.
   */
  #warnIfUnwatched(option: keyof TelemetryOptions, effective: string, variable: string): void {
    const watched = process.env[variable];
    if (watched === undefined || watched === effective) return;
    this.logger.warn(
      `kafkaConsumer's telemetry.${option} is "${effective}", but ${variable} (which the KafkaConsumer construct sets, and its alarms and dashboard watch) is "${watched}": metrics published under "${effective}" reach no alarm. Leave telemetry.${option} out, or give the construct ${option === 'namespace' ? 'metricsNamespace' : 'serviceName'}: "${effective}".`,
    );
  }

  /**
   * One EMF line per topic; when the event could not even be read, one line without a topic. And
   * one per blocked partition: its `BlockedOffset`, the only metric with a partition dimension
   * (a handful of lines while something is blocked, none otherwise).
   */
  publish(
    requestId: string,
    stats: ReadonlyMap<string, TopicStats>,
    durationMs: number,
    handlerFailed: boolean,
    blocked: readonly BlockedPartition[] = [],
  ): void {
    if (invocationStats.hasSubscribers) invocationStats.publish({ requestId, stats });
    const m = this.metrics;
    if (stats.size === 0) {
      m.addMetric('BatchDuration', MetricUnit.Milliseconds, durationMs);
      if (handlerFailed) m.addMetric('HandlerErrors', MetricUnit.Count, 1);
      m.publishStoredMetrics();
      return;
    }
    for (const [topic, s] of stats) {
      m.addDimension('topic', topic);
      m.addMetric('RecordsReceived', MetricUnit.Count, s.received);
      m.addMetric('RecordsProcessed', MetricUnit.Count, s.processed);
      m.addMetric('RecordsRetried', MetricUnit.Count, s.retried);
      m.addMetric('RecordsDeadLettered', MetricUnit.Count, s.deadLettered);
      m.addMetric('RecordsRedelivered', MetricUnit.Count, s.redelivered);
      m.addMetric('DeadLetterSendErrors', MetricUnit.Count, s.deadLetterErrors);
      if (this.published.ledger) {
        m.addMetric('RecordsSkippedAsDone', MetricUnit.Count, s.skippedAsDone);
        m.addMetric('RecordsDoneNotRecorded', MetricUnit.Count, s.doneNotRecorded);
      }
      if (this.published.outage) {
        m.addMetric('RecordsRedeliveredForOutage', MetricUnit.Count, s.redeliveredForOutage);
        m.addMetric('BreakerOpened', MetricUnit.Count, s.breakerOpened);
        m.addMetric('BreakerOpenFailed', MetricUnit.Count, s.breakerOpenFailed);
      }
      if (this.published.block) m.addMetric('RecordsBlocked', MetricUnit.Count, s.blocked);
      if (this.published.parking) {
        m.addMetric('RecordsParked', MetricUnit.Count, s.parked);
        m.addMetric('KeysParked', MetricUnit.Count, s.keysParked);
      }
      m.addMetric('BatchSize', MetricUnit.Count, s.received);
      m.addMetric('BatchBytes', MetricUnit.Bytes, s.bytes);
      m.addMetric('BatchDuration', MetricUnit.Milliseconds, durationMs);
      m.addMetric('RecordAge', MetricUnit.Milliseconds, s.maxRecordAgeMs);
      if (handlerFailed) m.addMetric('HandlerErrors', MetricUnit.Count, 1);
      m.publishStoredMetrics();
    }
    for (const b of blocked) {
      m.addDimensions({ topic: b.topic, partition: String(b.partition) });
      m.addMetric('BlockedOffset', MetricUnit.NoUnit, b.offset);
      m.publishStoredMetrics();
    }
  }
}
