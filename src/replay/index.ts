// The DLQ replay function: invoke it with {source?, maxMessages?, dryRun?, targetTopic?, filter?}
// once the cause of the failures is fixed; it answers with a summary. It replays the dead-letter
// queue, or (source "s3") the objects of the consumer's S3 on-failure destination.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { Admin, Producer } from 'kafkajs';
import { connectProducer, createKafka } from '../kafka/kafka-connection.js';
import { compressionFrom } from '../kafka/kafka-codecs.js';
import { ConfigurationError } from '../contract/errors.js';
import { allowedTopicsFrom, parseReplayRequest, replayLimitFrom } from './request.js';
import { DlqReplayer, type ReplaySummary } from './replayer.js';
import { OnFailureObjectReplayer } from './on-failure-objects.js';
import { DEFAULT_METRICS_NAMESPACE, ENV } from '../contract/index.js';
import { DynamoDbParkedKeyStore } from '../runtime/parking/parked-key-store.js';
import { S3ParkedObjects } from './parked-objects.js';
import type { ReleaseOptions } from './parked-key-release.js';
import { startReplayTracing } from './trace-links.js';

const serviceName = process.env[ENV.serviceName] ?? 'kafka-dlq-replay';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: process.env[ENV.metricsNamespace] ?? DEFAULT_METRICS_NAMESPACE, serviceName });

/** Time kept back before the deadline to finish the last batch and answer. */
const SAFETY_MARGIN_MS = 5_000;

export async function handler(payload: unknown, context: Context): Promise<ReplaySummary> {
  const started = Date.now();
  logger.addContext(context);
  const settings = parseReplayRequest(payload, allowedTopicsFrom(process.env));
  let producer: Promise<Producer> | undefined;
  let admin: Promise<Admin> | undefined;
  const connect = () => (producer ??= createKafka(process.env, 'dlq-replay').then((kafka) => connectProducer(kafka, process.env)));
  // Only to release parked keys: where the consumer group is (committed offsets).
  const connectAdmin = () =>
    (admin ??= createKafka(process.env, 'dlq-replay').then(async (kafka) => {
      const a = kafka.admin();
      await a.connect();
      return a;
    }));
  const committed = async (groupId: string, topic: string, partition: number) => {
    const [offsets] = await (await connectAdmin()).fetchOffsets({ groupId, topics: [topic] });
    const offset = Number(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
    return offset >= 0 ? offset : undefined; // -1: the group has committed nothing there
  };
  const options = { producer: connect, replayLimit: replayLimitFrom(process.env), compression: compressionFrom(process.env) };
  // Dead letters only: they keep the trace contexts a copy links to (an S3 on-failure object has none).
  const tracing = settings.source === 's3' ? undefined : startReplayTracing({ 'faas.invocation_id': context.awsRequestId });
  const replayer =
    settings.source === 's3'
      ? new OnFailureObjectReplayer({ bucket: onFailureBucket(), ...options })
      : new DlqReplayer({ queueUrl: queueUrl(), ...options, ...parkingFrom(process.env, committed), tracing });
  const remaining = context.getRemainingTimeInMillis();
  const deadline = started + remaining - Math.min(SAFETY_MARGIN_MS, remaining / 4);
  let summary: ReplaySummary | undefined;
  let failure: unknown;
  try {
    const run = () => replayer.run(settings, deadline);
    const result = await (tracing ? tracing.within(run) : run());
    // A setting that cannot work fails the invocation, not each record (they are all back in the queue, or bucket).
    const setupError = await producer?.then(
      () => undefined,
      (error: unknown) => error,
    );
    if (setupError instanceof ConfigurationError) throw setupError;
    summary = result;
    logger.info('replay finished', { ...summary, errors: summary.errors.slice(0, 20) });
    return summary;
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    await tracing?.end(summary, failure);
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
    if (summary) {
      metrics.addMetric('ReplayReceived', MetricUnit.Count, summary.received);
      metrics.addMetric('ReplayReplayed', MetricUnit.Count, summary.replayed);
      metrics.addMetric('ReplaySkipped', MetricUnit.Count, summary.skipped);
      metrics.addMetric('ReplayFailed', MetricUnit.Count, summary.failed);
      if (summary.parked) metrics.addMetric('KeysReleased', MetricUnit.Count, summary.parked.keysReleased);
    } else {
      metrics.addMetric('ReplayErrors', MetricUnit.Count, 1);
    }
    metrics.publishStoredMetrics();
  }
}

/** What releases parked keys (a consumer with failureMode 'park-key'): its table and the dead-letter bucket, when both are set. */
function parkingFrom(env: NodeJS.ProcessEnv, committed: ReleaseOptions['committed']) {
  const table = env[ENV.parkedKeysTable];
  const bucket = env[ENV.deadLetterBucket];
  return table && bucket ? { parking: { store: new DynamoDbParkedKeyStore(table), objects: new S3ParkedObjects(bucket), committed } } : {};
}

function queueUrl(): string {
  const url = process.env[ENV.deadLetterQueueUrl];
  if (!url) throw new ConfigurationError(`${ENV.deadLetterQueueUrl} is not set: the replay function reads the dead-letter queue it names.`);
  return url;
}

function onFailureBucket(): string {
  const bucket = process.env[ENV.onFailureBucket];
  if (!bucket) {
    throw new ConfigurationError(
      `${ENV.onFailureBucket} is not set: source "s3" replays the objects of the consumer's S3 on-failure destination. ` +
        `Give the KafkaConsumer onFailure: new S3OnFailureDestination(bucket) (DeadLetterReplay then sets it), or set it to the bucket's name.`,
    );
  }
  return bucket;
}
