// Item 1 of issue 29: no setting can silence the alarms. CloudWatch identifies a metric by its
// namespace, name and dimensions (CloudWatch User Guide, "Metrics concepts":
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_concepts.html#Metric):
// an alarm on namespace A and service B sees nothing the function publishes under another
// namespace or service. Powertools takes both from POWERTOOLS_METRICS_NAMESPACE and
// POWERTOOLS_SERVICE_NAME (Powertools for AWS Lambda (TypeScript), Metrics, "Environment variables":
// https://docs.powertools.aws.dev/lambda/typescript/latest/core/metrics/), so those, and every
// other variable the runtime reads, are the construct's alone.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONSUMER_ENV, ENV } from '../../../src/contract/index.js';
import { resourcesOf, synth } from './support.js';

const runtimeDir = fileURLToPath(new URL('../../../src/runtime/', import.meta.url));

/** The dashboard's metric lines, its tokens (function names, region) replaced by a placeholder. */
function dashboardMetrics(body: unknown): unknown[][] {
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const json = parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('');
  const widgets = (JSON.parse(json) as { widgets: Array<{ properties: { metrics?: unknown[][] } }> }).widgets;
  return widgets.flatMap((w) => w.properties.metrics ?? []);
}

describe('the settings the alarms watch (deploy contract)', () => {
  it.each([
    [ENV.serviceName, 'give the prop serviceName instead'],
    [ENV.metricsNamespace, 'give the prop metricsNamespace instead'],
    [ENV.consumerGroup, 'give the prop consumerGroupId instead'],
    [ENV.reportBatchItemFailures, 'give the prop reportBatchItemFailures instead'],
    [ENV.idempotencyTable, 'give the prop idempotency instead'],
    [ENV.deadLetterQueueUrl, 'leave it out'],
    [ENV.deadLetterBucket, 'leave it out'],
  ])('refuses environment.%s, naming what to do instead', (name, fix) => {
    expect(() => synth({ environment: { FEATURE_FLAG: 'on', [name]: 'x' } })).toThrow(
      `environment.${name} is set, but KafkaConsumer sets ${name} itself`,
    );
    expect(() => synth({ environment: { [name]: 'x' } })).toThrow(fix);
  });

  it('refuses every variable the runtime reads: each ENV name in src/runtime is in CONSUMER_ENV', () => {
    const read = new Set<string>();
    for (const file of readdirSync(runtimeDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
      for (const [, key] of readFileSync(path.join(runtimeDir, file), 'utf8').matchAll(/\bENV\.(\w+)/g))
        read.add(ENV[key as keyof typeof ENV]);
    }
    expect([...read].sort()).toEqual([...CONSUMER_ENV].sort());
  });

  it("with serviceName and metricsNamespace, the function, every alarm and every dashboard widget on the runtime's metrics use them", () => {
    const t = synth({
      topics: ['orders', 'payments'],
      serviceName: 'x',
      metricsNamespace: 'Payments',
      environment: { FEATURE_FLAG: 'on' },
    });
    const consumer = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f.Properties).includes('DLQ_BUCKET'),
    )!;
    expect((consumer.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: 'x',
      POWERTOOLS_METRICS_NAMESPACE: 'Payments',
      FEATURE_FLAG: 'on',
    });

    interface Stat {
      Metric: { Namespace: string; Dimensions: Array<{ Name: string; Value: unknown }> };
    }
    const alarmed = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'))
      .flatMap((a) =>
        ((a.Properties.Metrics ?? []) as Array<{ MetricStat?: Stat }>).flatMap((q) => (q.MetricStat ? [q.MetricStat.Metric] : [])),
      )
      .filter((m) => !m.Namespace.startsWith('AWS/'));
    expect(alarmed).toHaveLength(4); // RecordsDeadLettered and BreakerOpenFailed, per topic
    // Alarms on one metric name it at the top: the outage breaker's MappingPaused, per topic.
    const single = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties as unknown as Stat['Metric'] & { Namespace?: string })
      .filter((a) => a.Namespace !== undefined && !a.Namespace.startsWith('AWS/'));
    expect(single).toHaveLength(2);
    for (const m of [...alarmed, ...single]) {
      expect(m.Namespace).toBe('Payments');
      expect(m.Dimensions.find((d) => d.Name === 'service')?.Value).toBe('x');
    }

    const graphed = dashboardMetrics(Object.values(resourcesOf(t, 'AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody).filter(
      ([namespace]) => !String(namespace).startsWith('AWS/'),
    );
    // Nine of the runtime's metrics, and the outage breaker's three (on by default), per topic.
    expect(graphed).toHaveLength(2 * 12);
    for (const [namespace, , dimension, value] of graphed) expect([namespace, dimension, value]).toEqual(['Payments', 'service', 'x']);
  });

  // CloudWatch API reference, PutMetricData / MetricDatum: a namespace is 1–255 characters and
  // may not start with "AWS/" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
  it('refuses a namespace CloudWatch reserves or cannot take', () => {
    expect(() => synth({ metricsNamespace: 'AWS/Lambda' })).toThrow(
      'metricsNamespace is "AWS/Lambda"; CloudWatch takes 1–255 characters that do not start with ":" or "AWS/"',
    );
    expect(() => synth({ metricsNamespace: '' })).toThrow('metricsNamespace is ""');
  });

  // CloudWatch API reference, Dimension (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html),
  // Value: "Dimension values must contain only ASCII characters and must include at least one
  // non-whitespace character. ASCII control characters are not supported as part of dimension values."
  // The service is the runtime's `service` dimension: a value CloudWatch refuses would leave the alarms blind.
  it('refuses a serviceName CloudWatch cannot take as a dimension value', () => {
    expect(() => synth({ serviceName: 'zahlungsdienst-ü' })).toThrow(
      'serviceName is "zahlungsdienst-ü"; a CloudWatch dimension value takes printable ASCII characters only (no accents, no control characters): give serviceName in ASCII.',
    );
    expect(() => synth({ serviceName: 'orders\tsvc' })).toThrow('serviceName is "orders\\tsvc"');
    expect(() => synth({ serviceName: 'orders-svc.v2' })).not.toThrow();
  });
});
