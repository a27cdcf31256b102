// Item 1 of issue 17: every alarm is one CloudWatch accepts.
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { MAX_ALARM_METRICS } from '../../../src/constructs/alarms.js';
import type { KafkaConsumerProps } from '../../../src/constructs/kafka-consumer-props.js';
import { resourcesOf, synth, synthStack } from './support.js';

interface MetricQuery {
  Id: string;
  Expression?: string;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> };
    Stat: string;
    Period: number;
  };
}
const alarms = (topics: string[], props: Partial<KafkaConsumerProps> = {}) =>
  Object.values(resourcesOf(synth({ topics, ...props }), 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);

describe('alarms CloudWatch accepts', () => {
  // aws-cdk-lib, "class MathExpression" (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_cloudwatch.MathExpression.html),
  // prop `expression`: "When an expression contains a SEARCH function, it cannot be used within an Alarm."
  // (CloudFormation answers "SEARCH is not supported on Metric Alarms".)
  it('uses no SEARCH expression in any alarm', () => {
    for (const alarm of alarms(['orders', 'payments'])) {
      for (const query of (alarm.Metrics ?? []) as MetricQuery[]) expect(query.Expression ?? '').not.toMatch(/SEARCH\s*\(/i);
    }
  });

  it('sums the per-topic RecordsDeadLettered metrics, named one by one', () => {
    const alarm = alarms(['orders', 'payments']).find((a) => String(a.AlarmName ?? a.AlarmDescription).includes('dead-lettered'))!;
    const queries = alarm.Metrics as MetricQuery[];
    const stats = queries.filter((q) => q.MetricStat);
    expect(stats.map((q) => q.MetricStat!.Metric.Dimensions.find((d) => d.Name === 'topic')!.Value)).toEqual(['orders', 'payments']);
    expect(stats.every((q) => q.MetricStat!.Metric.MetricName === 'RecordsDeadLettered')).toBe(true);
    expect(queries.find((q) => q.Expression)!.Expression).toBe(`SUM([${stats.map((q) => q.Id).join(',')}])`);
  });

  // Amazon CloudWatch User Guide, "Limits" for alarms (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html):
  // "Alarms based on metric math expressions can reference a maximum of 10 metrics. This is a hard limit".
  it('splits more than 10 topics over several alarms of at most 10 metrics each', () => {
    const topics = Array.from({ length: 23 }, (_, i) => `topic-${i}`);
    const deadLettered = alarms(topics).filter((a) => String(a.AlarmDescription).includes('dead-lettered'));
    expect(deadLettered).toHaveLength(3);
    const counts = deadLettered.map((a) => (a.Metrics as MetricQuery[]).filter((q) => q.MetricStat).length);
    expect(counts).toEqual([10, 10, 3]);
    expect(Math.max(...counts)).toBeLessThanOrEqual(MAX_ALARM_METRICS);
  });

  // SQS developer guide, "Available CloudWatch metrics for Amazon SQS": queue metrics are
  // reported only while the queue is active. A quiet queue holding dead letters must not turn
  // its alarms back to OK: missing data keeps the alarm's state.
  it('keeps the dead-letter alarms in their state when SQS stops reporting a quiet queue', () => {
    const all = alarms(['orders']);
    const sqsAlarms = all.filter((a) => a.Namespace === 'AWS/SQS');
    expect(sqsAlarms.map((a) => a.MetricName).sort()).toEqual([
      'ApproximateAgeOfOldestMessage',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
    ]);
    for (const alarm of sqsAlarms) expect(alarm.TreatMissingData, String(alarm.MetricName)).toBe('ignore');
  });

  // Lambda guide, "Configuring error handling controls for Kafka event sources": with an on-failure
  // destination, infinite retries stop after 10 and the batch is skipped; "Capturing discarded
  // batches" (kafka-on-failure): an SQS destination receives the batch's metadata (offsets), not
  // its records. The on-failure queue is the only trace of those records: it alarms on one message.
  it('alarms on the first batch the mapping skipped, from the on-failure queue', () => {
    const t = synth({ topics: ['orders'] });
    const queueId = Object.keys(resourcesOf(t, 'AWS::SQS::Queue')).find((id) => id.includes('OnFailureQueue'))!;
    const skipped = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .filter((a) => JSON.stringify(a.Dimensions ?? []).includes(queueId));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
  });

  // Issue 29, item 3: a stalled mapping alarms. Lambda guide, "Types of metrics for Lambda
  // functions", "Event source mapping metrics" (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#event-source-mapping-metrics):
  // "PolledEventCount – … If Lambda polls for events but receives an empty poll (no new records),
  // Lambda emits a 0 value for this metric. Use this metric to detect whether your event source
  // mapping is correctly polling for new events." (EventCount group); "PollingErrorCount – …
  // Lambda only emits this metric data when error happened." (ErrorCount group, MSK and
  // self-managed Kafka); "You must opt-in the metric group". "Viewing metrics for Lambda functions"
  // (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-view.html): namespace AWS/Lambda,
  // dimension "By Event Source Mapping UUID (EventSourceMappingUUID) – View metrics for an event
  // source mapping" (CloudFormation's Ref of AWS::Lambda::EventSourceMapping is its UUID).
  // So: a mapping that polls always has samples (SampleCount >= 1, even of zeros); only missing
  // data, which breaches, makes the alarm fire. Not OffsetLag: Lambda documents it per
  // invocation ("Performance metrics … about a single function invocation"), so an idle healthy
  // consumer may publish none.
  it('alarms per mapping when it publishes no PolledEventCount for 15 minutes, enabling the metric groups it reads', () => {
    const t = synth({ topics: ['orders', 'payments'] });
    const mappings = resourcesOf(t, 'AWS::Lambda::EventSourceMapping');
    const stalls = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm'))
      .map((a) => a.Properties)
      .filter((a) => a.MetricName === 'PolledEventCount');
    expect(stalls).toHaveLength(2);
    for (const [id, m] of Object.entries(mappings)) {
      expect(m.Properties.MetricsConfig, id).toEqual({ Metrics: ['EventCount', 'ErrorCount'] });
      const alarm = stalls.find(
        (a) => JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'EventSourceMappingUUID', Value: { Ref: id } }]),
      );
      expect(alarm, id).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'SampleCount',
        Period: 300,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        TreatMissingData: 'breaching',
      });
      expect(String(alarm!.AlarmDescription)).toContain(
        `The mapping of ${(m.Properties.Topics as string[])[0]} has not polled for 15 minutes`,
      );
    }
    // The dashboard shows what the alarms watch.
    const dashboard = JSON.stringify(resourcesOf(t, 'AWS::CloudWatch::Dashboard'));
    for (const name of ['PolledEventCount', 'PollingErrorCount', 'EventSourceMappingUUID']) expect(dashboard).toContain(name);
  });

  // aws-cdk-lib's MetricType (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda.MetricType.html)
  // and CloudFormation's MetricsConfig.Metrics: EventCount | ErrorCount | KafkaMetrics, at most 3.
  it('adds the two groups to the metricsConfig given, without duplicates', () => {
    const metricsOf = (metrics: lambda.MetricType[]) =>
      Object.values(resourcesOf(synth({ metricsConfig: { metrics } }), 'AWS::Lambda::EventSourceMapping'))[0]!.Properties.MetricsConfig;
    expect(metricsOf([lambda.MetricType.KAFKA_METRICS])).toEqual({ Metrics: ['KafkaMetrics', 'EventCount', 'ErrorCount'] });
    expect(metricsOf([lambda.MetricType.ERROR_COUNT])).toEqual({ Metrics: ['ErrorCount', 'EventCount'] });
  });

  // PollingErrorCount is published only when a poll fails: missing data is no error. Summed by
  // name over at most 10 mappings per alarm (the alarm limits above).
  it('alarms on the first polling error of any mapping, at most 10 mappings per alarm', () => {
    const topics = Array.from({ length: 12 }, (_, i) => `topic-${i}`);
    const polling = alarms(topics).filter((a) => String(a.AlarmDescription).includes('failed to poll'));
    expect(polling.map((a) => (a.Metrics as MetricQuery[]).filter((q) => q.MetricStat).length)).toEqual([10, 2]);
    for (const alarm of polling) {
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      for (const q of (alarm.Metrics as MetricQuery[]).filter((m) => m.MetricStat)) {
        expect(q.MetricStat).toMatchObject({
          Metric: { Namespace: 'AWS/Lambda', MetricName: 'PollingErrorCount', Dimensions: [{ Name: 'EventSourceMappingUUID' }] },
          Stat: 'Sum',
          Period: 300,
        });
      }
    }
  });

  // Lambda stamps function metrics with the invocation's start and sends them when it ends
  // ("Viewing metrics": "if your function has a 10-minute timeout, then look more than 10
  // minutes in the past"); functions behind Kafka mappings run at most 14 minutes. The window is
  // the timeout plus the batching window plus two periods, never under 15 minutes.
  // "If your event source mapping is disabled, you won't receive event source mapping metrics."
  it('waits longer than the longest invocation, and skips paused mappings', () => {
    const stalls = (props: Partial<KafkaConsumerProps>) => alarms(['orders'], props).filter((a) => a.MetricName === 'PolledEventCount');
    expect(stalls({ timeout: Duration.minutes(14), maxBatchingWindow: Duration.minutes(5) })[0]).toMatchObject({
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
    });
    expect(stalls({ enabled: false })).toEqual([]);
  });

  // aws-cdk-lib README, "Kafka Observability Features": "Observability features (LogLevel and
  // MetricsConfig) are only available when using provisioned mode". On demand nothing tells a
  // stalled mapping from an idle one: no alarm pretends to, and synth says so.
  it('on demand, creates no stall alarm and warns that a stalled mapping cannot alarm', () => {
    const { stack, template } = synthStack({ pollerMode: 'on-demand' });
    const all = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((a) => JSON.stringify(a.Properties));
    expect(all.filter((a) => /PolledEventCount|PollingErrorCount/.test(a))).toEqual([]);
    Annotations.fromStack(stack).hasWarning(
      '/Test/Consumer',
      Match.stringLikeRegexp("pollerMode is on-demand, so a stalled mapping cannot alarm.*Use pollerMode 'provisioned'"),
    );
    expect(Annotations.fromStack(synthStack().stack).findWarning('*', Match.stringLikeRegexp('stalled mapping'))).toEqual([]);
  });

  // The bucket of oversized dead letters is retained; the queues holding the dead letters and
  // the skipped batches' offsets must outlive a stack deletion or a queue replacement too.
  it('retains both queues when the stack is deleted, as it retains the bucket', () => {
    const t = synth({ topics: ['orders'] });
    const queues = Object.entries(
      t.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>,
    ).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    expect(queues.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ConsumerDeadLetterQueue', 'ConsumerOnFailureQueue']);
    for (const [id, queue] of queues) expect([queue.DeletionPolicy, queue.UpdateReplacePolicy], id).toEqual(['Retain', 'Retain']);
  });
});
