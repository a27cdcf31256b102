import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Telemetry, emptyTopicStats, invocationStats, type TopicStats } from '../../../src/runtime/telemetry.js';
import { fresh } from '../../support/fresh.js';
import type * as TelemetryModule from '../../../src/runtime/telemetry.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** The EMF lines written to stdout, parsed. */
function captureEmf() {
  const lines: Array<
    Record<string, unknown> & {
      _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
    }
  > = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    for (const line of String(chunk).split('\n')) if (line.includes('"_aws"')) lines.push(JSON.parse(line));
    return true;
  });
  return lines;
}

const stats = (fields: Partial<TopicStats>) => Object.assign(emptyTopicStats(), fields);

describe('Telemetry', () => {
  it('writes one EMF line per topic with every count, its unit, and the topic and service dimensions', () => {
    const emf = captureEmf();
    const telemetry = new Telemetry({ namespace: 'Ns', serviceName: 'svc' });
    const orders = stats({
      received: 10,
      processed: 6,
      retried: 4,
      deadLettered: 2,
      redelivered: 1,
      deadLetterErrors: 1,
      bytes: 2_048,
      maxRecordAgeMs: 1_500,
    });
    telemetry.publish(
      'req-1',
      new Map([
        ['orders', orders],
        ['payments', stats({ received: 1, processed: 1 })],
      ]),
      250,
      false,
    );
    expect(emf).toHaveLength(2);
    const [line] = emf;
    expect(line).toMatchObject({
      service: 'svc',
      topic: 'orders',
      RecordsReceived: 10,
      RecordsProcessed: 6,
      RecordsRetried: 4,
      RecordsDeadLettered: 2,
      RecordsRedelivered: 1,
      DeadLetterSendErrors: 1,
      BatchSize: 10,
      BatchBytes: 2_048,
      BatchDuration: 250,
      RecordAge: 1_500,
    });
    expect(line).not.toHaveProperty('HandlerErrors');
    const [directive] = line!._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe('Ns');
    expect(directive!.Dimensions.map((d) => [...d].sort())).toEqual([['service', 'topic']]);
    expect(Object.fromEntries(directive!.Metrics.map((m) => [m.Name, m.Unit]))).toEqual({
      RecordsReceived: 'Count',
      RecordsProcessed: 'Count',
      RecordsRetried: 'Count',
      RecordsDeadLettered: 'Count',
      RecordsRedelivered: 'Count',
      DeadLetterSendErrors: 'Count',
      BatchSize: 'Count',
      BatchBytes: 'Bytes',
      BatchDuration: 'Milliseconds',
      RecordAge: 'Milliseconds',
    });
    expect(emf[1]).toMatchObject({ topic: 'payments', RecordsReceived: 1, RecordsProcessed: 1, RecordsDeadLettered: 0 });
  });

  it('publishes the outage counts only for a handler with outage handling on (the breaker), as counts', () => {
    const emf = captureEmf();
    const outageStats = new Map([['orders', stats({ received: 5, redelivered: 5, redeliveredForOutage: 5, breakerOpened: 1 })]]);
    new Telemetry({ namespace: 'Ns', serviceName: 'svc' }, { outage: true }).publish('req-1', outageStats, 5, false);
    new Telemetry({ namespace: 'Ns', serviceName: 'svc' }).publish('req-2', outageStats, 5, false);
    expect(emf[0]).toMatchObject({ RecordsRedeliveredForOutage: 5, BreakerOpened: 1, BreakerOpenFailed: 0 });
    const units = Object.fromEntries(emf[0]!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, m.Unit]));
    expect(units).toMatchObject({ RecordsRedeliveredForOutage: 'Count', BreakerOpened: 'Count', BreakerOpenFailed: 'Count' });
    for (const name of ['RecordsRedeliveredForOutage', 'BreakerOpened', 'BreakerOpenFailed']) expect(emf[1]).not.toHaveProperty(name);
  });

  it("counts a failed handler on each topic's line, and on a line of its own when the event could not be read", () => {
    const emf = captureEmf();
    const telemetry = new Telemetry({ namespace: 'Ns', serviceName: 'svc' });
    telemetry.publish('req-1', new Map([['orders', stats({ received: 1 })]]), 5, true);
    telemetry.publish('req-2', new Map(), 7, true);
    telemetry.publish('req-3', new Map(), 9, false);
    expect(emf.map((l) => [l.topic, l.HandlerErrors, l.BatchDuration])).toEqual([
      ['orders', 1, 5],
      [undefined, 1, 7],
      [undefined, undefined, 9],
    ]);
    expect(emf[1]!._aws.CloudWatchMetrics[0]!.Metrics.map((m) => [m.Name, m.Unit])).toEqual([
      ['BatchDuration', 'Milliseconds'],
      ['HandlerErrors', 'Count'],
    ]);
  });

  it('takes its namespace and service from the Powertools variables, else KafkaConsumer and kafka-consumer', () => {
    const emf = captureEmf();
    new Telemetry().publish('r', new Map(), 1, false);
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'EnvNs');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'env-svc');
    const fromEnv = new Telemetry();
    fromEnv.publish('r', new Map(), 1, false);
    expect(emf.map((l) => [l._aws.CloudWatchMetrics[0]!.Namespace, l.service])).toEqual([
      ['KafkaConsumer', 'kafka-consumer'],
      ['EnvNs', 'env-svc'],
    ]);
  });

  it('logs with the service name', () => {
    const logged: string[] = [];
    for (const stream of [process.stdout, process.stderr])
      vi.spyOn(stream, 'write').mockImplementation((chunk) => logged.push(String(chunk)) > 0);
    new Telemetry({ serviceName: 'svc' }).logger.warn('hello');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'env-svc');
    new Telemetry().logger.warn('hello');
    const lines = logged
      .join('')
      .split('\n')
      .filter((l) => l.includes('hello'))
      .map((l) => JSON.parse(l) as { service: string });
    expect(lines.map((l) => l.service)).toEqual(['svc', 'env-svc']);
  });

  // Issue 29: a telemetry option that differs from what the construct set (and alarms on)
  // says so once, when the handler is created (cold start), naming both values and the fix.
  it('warns once at cold start when a telemetry option differs from what the construct set', () => {
    const logged: string[] = [];
    for (const stream of [process.stdout, process.stderr])
      vi.spyOn(stream, 'write').mockImplementation((chunk) => logged.push(String(chunk)) > 0);
    const warnings = () =>
      logged
        .join('')
        .split('\n')
        .filter((l) => l.includes('"WARN"'))
        .map((l) => (JSON.parse(l) as { message: string }).message);
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'Orders');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'orders');
    const telemetry = new Telemetry({ namespace: 'Other', serviceName: 'orders' });
    telemetry.publish('r', new Map(), 1, false);
    telemetry.publish('r', new Map(), 1, false);
    expect(warnings()).toEqual([
      'kafkaConsumer\'s telemetry.namespace is "Other", but POWERTOOLS_METRICS_NAMESPACE (which the KafkaConsumer construct sets, and its alarms and dashboard watch) is "Orders": metrics published under "Other" reach no alarm. Leave telemetry.namespace out, or give the construct metricsNamespace: "Other".',
    ]);
    logged.length = 0;
    new Telemetry({ serviceName: 'billing' });
    expect(warnings()).toEqual([expect.stringContaining('telemetry.serviceName is "billing", but POWERTOOLS_SERVICE_NAME')]);
    logged.length = 0;
    new Telemetry({ namespace: 'Orders', serviceName: 'orders' }); // the same values
    new Telemetry();
    vi.unstubAllEnvs();
    new Telemetry({ namespace: 'Other', serviceName: 'billing' }); // no construct: nothing to differ from
    expect(warnings()).toEqual([]);
  });

  it("publishes each invocation's stats to local tools", () => {
    captureEmf();
    const seen: unknown[] = [];
    const listen = (message: unknown) => void seen.push(message);
    subscribe(invocationStats.name, listen);
    try {
      const byTopic = new Map([['orders', stats({ received: 2 })]]);
      new Telemetry({ namespace: 'Ns' }).publish('req-9', byTopic, 1, false);
      expect(seen).toEqual([{ requestId: 'req-9', stats: byTopic }]);
    } finally {
      unsubscribe(invocationStats.name, listen);
    }
  });
});

describe('Telemetry channel', () => {
  it('publishes on the channel local tools subscribe to by name', async () => {
    const { Telemetry: FreshTelemetry } = await fresh<typeof TelemetryModule>('../../src/runtime/telemetry.js');
    captureEmf();
    const seen: unknown[] = [];
    const listen = (message: unknown) => void seen.push(message);
    subscribe('kafka-lambda:invocation-stats', listen);
    try {
      new FreshTelemetry({ namespace: 'Ns' }).publish('req-1', new Map(), 1, false);
    } finally {
      unsubscribe('kafka-lambda:invocation-stats', listen);
    }
    expect(seen).toHaveLength(1);
  });
});
