// Item 1 of issue 17: every alarm is one CloudWatch accepts.
import { describe, expect, it } from 'vitest';
import { MAX_ALARM_METRICS } from '../../../lib/kafka-consumer';
import { resourcesOf, synth } from './support';

interface MetricQuery { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: string }> } } }
const alarms = (topics: string[]) => Object.values(resourcesOf(synth({ topics }), 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);

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
    for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage']) {
      expect(all.find((a) => a.MetricName === metric)!.TreatMissingData, metric).toBe('ignore');
    }
  });
});
