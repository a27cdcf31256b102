// The DLQ replay function: invoke it with {maxMessages?, dryRun?, targetTopic?, filter?}
// once the cause of the failures is fixed; it answers with a summary.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Producer } from 'kafkajs';
import { connectProducer, createKafka } from '../runtime/kafka-connection';
import { compressionFrom } from '../runtime/kafka-codecs';
import { ConfigurationError } from '../runtime/errors';
import { allowedTopicsFrom, parseReplayRequest, replayLimitFrom } from './request';
import { DlqReplayer, type ReplaySummary } from './replayer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'kafka-dlq-replay';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'KafkaConsumer', serviceName });

/** Time kept back before the deadline to finish the last batch and answer. */
const SAFETY_MARGIN_MS = 5_000;

export async function handler(payload: unknown, context: Context): Promise<ReplaySummary> {
  const started = Date.now();
  logger.addContext(context);
  const settings = parseReplayRequest(payload, allowedTopicsFrom(process.env));
  const queueUrl = process.env.DLQ_URL;
  if (!queueUrl) throw new ConfigurationError('DLQ_URL is not set: the replay function reads the dead-letter queue it names.');

  let producer: Promise<Producer> | undefined;
  const connect = () => (producer ??= createKafka(process.env, 'dlq-replay').then((kafka) => connectProducer(kafka, process.env)));
  const replayer = new DlqReplayer({ queueUrl, producer: connect, replayLimit: replayLimitFrom(process.env), compression: compressionFrom(process.env) });
  const remaining = context.getRemainingTimeInMillis();
  const deadline = started + remaining - Math.min(SAFETY_MARGIN_MS, remaining / 4);
  let summary: ReplaySummary | undefined;
  try {
    const result = await replayer.run(settings, deadline);
    // A setting that cannot work fails the invocation, not each record (they are all back in the queue).
    const setupError = await producer?.then(() => undefined, (error: unknown) => error);
    if (setupError instanceof ConfigurationError) throw setupError;
    summary = result;
    logger.info('replay finished', { ...summary, errors: summary.errors.slice(0, 20) });
    return summary;
  } finally {
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
    if (summary) {
      metrics.addMetric('ReplayReceived', MetricUnit.Count, summary.received);
      metrics.addMetric('ReplayReplayed', MetricUnit.Count, summary.replayed);
      metrics.addMetric('ReplaySkipped', MetricUnit.Count, summary.skipped);
      metrics.addMetric('ReplayFailed', MetricUnit.Count, summary.failed);
    } else {
      metrics.addMetric('ReplayErrors', MetricUnit.Count, 1);
    }
    metrics.publishStoredMetrics();
  }
}
