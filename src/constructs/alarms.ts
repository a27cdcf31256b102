// The consumer's metrics and alarms: on its dead letters, skipped batches, function, lag, stalled
// or failing mappings (provisioned mode), mappings the outage breaker paused, and the runtime's own metrics.
import { Annotations, Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ConsumerAlarmThresholds, KafkaConsumerProps } from './kafka-consumer-props.js';
import type { PollerMode } from '../mapping/mapping-settings.js';

/** The period of the stall alarm's data points, and the fewest of them that make a stall (15 minutes). */
const STALL_PERIOD = Duration.minutes(5);
const MIN_STALL_PERIODS = 3;
/** The mapping metric groups the alarms read (Lambda guide, "Event source mapping metrics"): PolledEventCount, PollingErrorCount. */
export const ALARMED_MAPPING_METRICS = [lambda.MetricType.EVENT_COUNT, lambda.MetricType.ERROR_COUNT];
/** Metrics one CloudWatch alarm's metric math may read (CloudWatch alarm limits). */
export const MAX_ALARM_METRICS = 10;

/** A metric the runtime publishes (EMF), by topic. */
export function runtimeMetric(namespace: string, service: string, name: string, topic: string, statistic = 'Sum'): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace, metricName: name, dimensionsMap: { service, topic }, statistic, period: Duration.minutes(5) });
}

/** The mappings' OffsetLag of one function, by topic. */
export function offsetLagMetric(fn: lambda.IFunction): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName: 'OffsetLag',
    dimensionsMap: { FunctionName: fn.functionName },
    statistic: 'Maximum',
    period: Duration.minutes(1),
  });
}

/**
 * A metric of one mapping (Lambda guide, "Event source mapping metrics": AWS/Lambda, dimension
 * EventSourceMappingUUID), published only for the groups in its MetricsConfig.
 */
export function mappingMetric(mappingId: string, name: string, statistic = 'Sum'): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName: name,
    dimensionsMap: { EventSourceMappingUUID: mappingId },
    statistic,
    period: Duration.minutes(5),
  });
}

/** What the alarms watch: the consumer's parts and its metrics. */
export interface AlarmedConsumer extends Construct {
  readonly function: lambda.Function;
  readonly deadLetterQueue: sqs.IQueue;
  readonly onFailureQueue?: sqs.IQueue | undefined;
  /** The outage breaker's resumer, when the breaker is on. */
  readonly breakerFunction?: lambda.IFunction | undefined;
  readonly settings: { readonly pollerMode: PollerMode };
  readonly alarms: cloudwatch.Alarm[];
  runtimeMetric(name: string, topic: string, statistic?: string): cloudwatch.Metric;
  offsetLagMetric(): cloudwatch.Metric;
  mappingMetric(topic: string, name: string, statistic?: string): cloudwatch.Metric;
}

/** Creates the consumer's alarms (into `consumer.alarms`), each notifying `topic` when given. */
export function addConsumerAlarms(
  consumer: AlarmedConsumer,
  props: KafkaConsumerProps,
  t: ConsumerAlarmThresholds,
  topic: sns.ITopic | undefined,
): void {
  const topics = props.topics;
  const add = (
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    description: string,
    options: {
      treatMissingData?: cloudwatch.TreatMissingData;
      evaluationPeriods?: number;
      comparisonOperator?: cloudwatch.ComparisonOperator;
    } = {},
  ) => {
    const evaluationPeriods = options.evaluationPeriods ?? 1;
    const alarm = new cloudwatch.Alarm(consumer, id, {
      metric,
      threshold,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      alarmDescription: description,
      treatMissingData: options.treatMissingData ?? cloudwatch.TreatMissingData.NOT_BREACHING,
      comparisonOperator: options.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    });
    if (topic) alarm.addAlarmAction(new actions.SnsAction(topic));
    consumer.alarms.push(alarm);
  };
  // Alarms refuse SEARCH: sum a per-topic metric by name, at most MAX_ALARM_METRICS per alarm.
  const addSums = (
    id: string,
    metricOf: (topic: string) => cloudwatch.Metric,
    label: string,
    threshold: number,
    describe: (group: string[]) => string,
  ) => {
    for (let i = 0; i < topics.length; i += MAX_ALARM_METRICS) {
      const group = topics.slice(i, i + MAX_ALARM_METRICS);
      const usingMetrics = Object.fromEntries(group.map((name, j) => [`t${j}`, metricOf(name)]));
      const sum = new cloudwatch.MathExpression({
        expression: `SUM([${Object.keys(usingMetrics).join(',')}])`,
        usingMetrics,
        period: Duration.minutes(5),
        label,
      });
      add(`${id}${i ? i / MAX_ALARM_METRICS + 1 : ''}`, sum, threshold, describe(group));
    }
  };
  add(
    'DeadLettersAlarm',
    consumer.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    t.deadLetters ?? 1,
    'Records are waiting in the dead-letter queue: fix the cause, then invoke the replay function.',
    // SQS publishes queue metrics only while the queue is active: a quiet queue keeps its state.
    { treatMissingData: cloudwatch.TreatMissingData.IGNORE },
  );
  add(
    'OldestDeadLetterAlarm',
    consumer.deadLetterQueue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
    (t.oldestDeadLetterAge ?? Duration.hours(1)).toSeconds(),
    'A dead letter has waited too long; it is deleted when the queue retention runs out.',
    { treatMissingData: cloudwatch.TreatMissingData.IGNORE },
  );
  // Lambda caps infinite retries at 10 when there is an on-failure destination, and sends an SQS
  // destination the batch's offsets only (Lambda guide, "kafka-on-failure"): those records are
  // skipped, and only this queue says which.
  // Only for the construct's own queue: another destination is the user's to watch.
  if (consumer.onFailureQueue) {
    add(
      'SkippedBatchesAlarm',
      consumer.onFailureQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      t.skippedBatches ?? 1,
      'The event source mapping gave up on batches and skipped them: the on-failure queue names their offsets. Fix the cause, then re-read those offsets (docs/operations.md, "The alarms").',
      { treatMissingData: cloudwatch.TreatMissingData.IGNORE },
    );
  }
  add(
    'FunctionErrorsAlarm',
    consumer.function.metricErrors({ period: Duration.minutes(5) }),
    t.functionErrors ?? 1,
    'The consumer failed whole batches (thrown errors or timeouts): the mapping retries them.',
  );
  add(
    'ThrottlesAlarm',
    consumer.function.metricThrottles({ period: Duration.minutes(5) }),
    t.throttles ?? 1,
    'The consumer is throttled: raise reserved concurrency or account limits.',
  );
  add('OffsetLagAlarm', consumer.offsetLagMetric(), t.offsetLag ?? 10_000, 'The consumer is falling behind its topics.');
  // A stalled mapping: Lambda publishes PolledEventCount on every poll, 0 on an empty one, once
  // MetricsConfig has EventCount ("Use this metric to detect whether your event source mapping
  // is correctly polling"); a mapping that cannot poll publishes nothing. So one alarm per
  // mapping on its samples, missing data breaching; and PollingErrorCount (published only when
  // a poll fails, with ErrorCount). Lambda guide, "Event source mapping metrics". A disabled
  // mapping publishes none of them by design: no alarm for it.
  if (props.enabled !== false && consumer.settings.pollerMode === 'on-demand') {
    Annotations.of(consumer).addWarningV2(
      'kafka-consumers:noStallAlarmOnDemand',
      "pollerMode is on-demand, so a stalled mapping cannot alarm: only a mapping's own metrics (PolledEventCount, PollingErrorCount) tell a mapping that cannot poll from an idle one, and Lambda publishes them for Kafka only in provisioned mode (MetricsConfig). No StalledMappingAlarm or PollingErrorsAlarm is created. Use pollerMode 'provisioned' (the default) to have them, or watch each mapping's State and LastProcessingResult yourself (docs/operations.md, \"How far to trust StalledMappingAlarm\").",
    );
  } else if (props.enabled !== false) {
    // Long enough that a healthy mapping polls within it even behind the longest invocation:
    // the function's timeout plus the batching window, plus two periods for alignment and
    // CloudWatch's delay; never under 15 minutes.
    const window = (props.timeout ?? Duration.seconds(60)).toSeconds() + (props.maxBatchingWindow?.toSeconds() ?? 1);
    const periods = Math.max(MIN_STALL_PERIODS, Math.ceil(window / STALL_PERIOD.toSeconds()) + 2);
    for (const name of topics) {
      add(
        `StalledMappingAlarm-${name}`,
        consumer.mappingMetric(name, 'PolledEventCount', 'SampleCount').with({ period: STALL_PERIOD }),
        1,
        `The mapping of ${name} has not polled for ${periods * STALL_PERIOD.toMinutes()} minutes: it published no PolledEventCount (a healthy mapping publishes one on every poll, 0 when the topic is quiet). Check its State, LastProcessingResult and StateTransitionReason: aws lambda get-event-source-mapping --uuid <id> (docs/operations.md, "The alarms").`,
        // Samples exist whenever the mapping polls: only missing data (no poll) can breach.
        {
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
          evaluationPeriods: periods,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        },
      );
    }
    addSums(
      'PollingErrorsAlarm',
      (name) => consumer.mappingMetric(name, 'PollingErrorCount'),
      'PollingErrorCount',
      t.pollingErrors ?? 1,
      (group) =>
        `The mappings of ${group.join(', ')} failed to poll their topics (PollingErrorCount). Check each mapping's LastProcessingResult: aws lambda get-event-source-mapping --uuid <id> (docs/operations.md, "The alarms").`,
    );
  }
  // The outage breaker's resumer publishes MappingPaused (0 or 1) for every mapping on every look,
  // once a minute: 1 is a paused mapping, and no data is a resumer that does not run, which would
  // leave a paused mapping paused. CloudWatch treats data as missing only when the alarm's whole
  // evaluation range (wider than its one period) lacks it, so one late look does not fire it.
  // A mapping disabled by `enabled: false` stays paused by design: no alarm for it.
  if (props.breaker !== false && props.enabled !== false) {
    for (const name of topics) {
      add(
        `ConsumerPausedAlarm-${name}`,
        consumer.runtimeMetric('MappingPaused', name, 'Maximum').with({ period: Duration.minutes(1) }),
        1,
        `The mapping of ${name} is paused: the outage breaker opened on a downstream outage and its records wait in Kafka (or someone disabled the mapping), or the breaker's resumer published no MappingPaused (it is not running, so nothing would resume the mapping). See docs/operations.md, "The alarms".`,
        { treatMissingData: cloudwatch.TreatMissingData.BREACHING },
      );
    }
    // A breaker that cannot open (its Lambda calls refused, throttled, or no mapping matching the
    // event) leaves the outage's records redelivered over and over, unpaused: nothing else says so.
    addSums(
      'BreakerOpenFailedAlarm',
      (name) => consumer.runtimeMetric('BreakerOpenFailed', name),
      'BreakerOpenFailed',
      1,
      (group) =>
        `The outage breaker of ${group.join(', ')} could not pause its mapping (BreakerOpenFailed): the records of the outage are redelivered, not paused. The consumer's log line "breaker: …" names the error. See docs/operations.md, "The alarms".`,
    );
  }
  // The resumer fails a look when it cannot read or change a mapping: while it fails, no breaker resumes.
  if (consumer.breakerFunction) {
    add(
      'BreakerResumerErrorsAlarm',
      consumer.breakerFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      1,
      `The outage breaker's resumer failed (Errors): a paused mapping may not be resumed. Its log names the mapping and the error. See docs/operations.md, "The alarms".`,
    );
  }
  // failureMode 'block': each invocation that holds a partition at a record counts RecordsBlocked.
  // A record that fails and then succeeds on a redelivery is retried, not blocked: 3 of 3 minutes.
  if (props.failureMode === 'block') {
    for (const name of topics) {
      add(
        `PartitionBlockedAlarm-${name}`,
        consumer.runtimeMetric('RecordsBlocked', name).with({ period: Duration.minutes(1) }),
        1,
        `partition blocked: a record of ${name} fails for good and its partition is redelivered from it, holding back every later record of that partition (failureMode 'block'). Which partition and offset: the consumer's log line "partition blocked" (topic, partition, offset, errorType, attempts), or the dashboard's BlockedOffset (dimension partition). Fix the handler or the data; the partition resumes by itself (docs/operations.md, "The alarms").`,
        { evaluationPeriods: 3 },
      );
    }
  }
  addSums(
    'RecordsDeadLetteredAlarm',
    (name) => consumer.runtimeMetric('RecordsDeadLettered', name),
    'RecordsDeadLettered',
    t.recordsDeadLettered ?? 1,
    (group) => `Records of ${group.join(', ')} exhausted their retries and were dead-lettered.`,
  );
}
