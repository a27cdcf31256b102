// Item 1 of issue 17: every alarm is one CloudWatch accepts.
import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { MAX_ALARM_METRICS, type KafkaConsumerProps } from '../../../lib/kafka-consumer';
import { resourcesOf, synth } from './support';

interface MetricQuery { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> }; Stat: string; Period: number } }
const alarms = (topics: string[], props: Partial<KafkaConsumerProps> = {}) => Object.values(resourcesOf(synth({ topics, ...props }), 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
const stalled = (props: Partial<KafkaConsumerProps> = {}) => alarms(['orders'], props).filter((a) => String(a.AlarmDescription).startsWith('Records are waiting and nothing is consumed'));

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
    expect(sqsAlarms.map((a) => a.MetricName).sort()).toEqual(['ApproximateAgeOfOldestMessage', 'ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesVisible']);
    for (const alarm of sqsAlarms) expect(alarm.TreatMissingData, String(alarm.MetricName)).toBe('ignore');
  });

  // Lambda guide, "Configuring error handling controls for Kafka event sources": with an on-failure
  // destination, infinite retries stop after 10 and the batch is skipped; "Capturing discarded
  // batches" (kafka-on-failure): an SQS destination receives the batch's metadata (offsets), not
  // its records. The on-failure queue is the only trace of those records: it alarms on one message.
  it('alarms on the first batch the mapping skipped, from the on-failure queue', () => {
    const t = synth({ topics: ['orders'] });
    const queueId = Object.keys(resourcesOf(t, 'AWS::SQS::Queue')).find((id) => id.includes('OnFailureQueue'))!;
    const skipped = Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties)
      .filter((a) => JSON.stringify(a.Dimensions ?? []).includes(queueId));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'ignore' });
  });

  // Issue 29, item 3: a stalled mapping alarms. A mapping that cannot poll (IAM, network, a
  // rotated secret; LastProcessingResult "PROBLEM: …") invokes nothing and publishes no OffsetLag;
  // Lambda sends Invocations only when nonzero (Lambda guide, "Working with Lambda function
  // metrics": https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics.html); CloudWatch
  // treats missing data as the alarm says (User Guide, "Configuring how CloudWatch alarms treat
  // missing data": https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-missing-data),
  // and FILL and IF work as in "Metric math syntax and functions"
  // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
  // So: 1 where no invocation started and OffsetLag is missing or >= stalledLag; no data at all breaches.
  it('alarms when no invocation starts for 15 minutes while the mappings publish no OffsetLag, or a lag', () => {
    const [alarm, ...more] = stalled();
    expect(more).toEqual([]);
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 3, DatapointsToAlarm: 3, TreatMissingData: 'breaching' });
    const queries = alarm!.Metrics as MetricQuery[];
    const metric = (name: string) => queries.find((q) => q.MetricStat?.Metric.MetricName === name)!;
    const lag = metric('OffsetLag');
    const invocations = metric('Invocations');
    expect(lag.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName' }] }, Stat: 'Maximum', Period: 300 });
    expect(invocations.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName' }] }, Stat: 'Sum', Period: 300 });
    expect(lag.MetricStat!.Metric.Dimensions).toEqual(invocations.MetricStat!.Metric.Dimensions); // this consumer's function
    expect(queries.find((q) => q.Expression)!.Expression)
      .toBe(`IF(FILL(${invocations.Id}, 0) == 0 AND (FILL(${lag.Id}, -1) < 0 OR FILL(${lag.Id}, -1) >= 1), 1, 0)`);
  });

  // A healthy consumer starts an invocation at least once per function timeout plus batching
  // window (Lambda guide, "Configuring Amazon MSK event sources": functions of at most 14 minutes):
  // the stall window is longer, or a slow, healthy consumer would alarm. A paused mapping
  // (enabled: false) polls and publishes nothing by design; a stalledLag of 0 would alarm on
  // every idle consumer.
  it('waits longer than the longest invocation, skips paused mappings, and refuses a stalledLag that always fires', () => {
    expect(stalled({ timeout: Duration.minutes(14), maxBatchingWindow: Duration.minutes(5) })[0]).toMatchObject({ EvaluationPeriods: 5, DatapointsToAlarm: 5 });
    expect(stalled({ alarmThresholds: { stalledLag: 3 } })[0]!.Metrics).toEqual(expect.arrayContaining([expect.objectContaining({ Expression: expect.stringContaining('>= 3)') })]));
    expect(stalled({ enabled: false })).toEqual([]);
    expect(() => stalled({ alarmThresholds: { stalledLag: 0 } })).toThrow('alarmThresholds.stalledLag is 0; it must be a whole number ≥ 1.');
  });

  // The bucket of oversized dead letters is retained; the queues holding the dead letters and
  // the skipped batches' offsets must outlive a stack deletion or a queue replacement too.
  it('retains both queues when the stack is deleted, as it retains the bucket', () => {
    const t = synth({ topics: ['orders'] });
    const queues = Object.entries(t.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string; UpdateReplacePolicy?: string }>)
      .filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    expect(queues.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['ConsumerDeadLetterQueue', 'ConsumerOnFailureQueue']);
    for (const [id, queue] of queues) expect([queue.DeletionPolicy, queue.UpdateReplacePolicy], id).toEqual(['Retain', 'Retain']);
  });
});
