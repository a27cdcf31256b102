// One aws-cdk-lib Kafka event source per topic, from the props and the validated settings.
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { ALARMED_MAPPING_METRICS } from './alarms.js';
import type { KafkaConsumerProps } from './kafka-consumer-props.js';
import { leastPrivilegeOnFailure } from './on-failure-destination.js';
import type { EffectiveMappingSettings } from '../mapping/mapping-settings.js';
import { mappingConsumerGroupId } from '../runtime/consumer-group.js';

/** The AWS service an on-failure destination is, by aws-cdk-lib's destination class. */
export function onFailureService(onFailure: lambda.IEventSourceDlq | undefined): 'sqs' | 'sns' | 's3' | 'kafka' {
  if (onFailure instanceof sources.SnsDlq) return 'sns';
  if (onFailure instanceof sources.S3OnFailureDestination) return 's3';
  if (onFailure instanceof sources.KafkaDlq) return 'kafka';
  return 'sqs';
}

/**
 * The event source of one topic. `onFailureQueue` is the construct's own queue, the destination
 * when `props.onFailure` names none; with neither, the mapping has no destination.
 */
export function kafkaEventSource(
  props: KafkaConsumerProps,
  s: EffectiveMappingSettings,
  topic: string,
  onFailureQueue: sqs.IQueue | undefined,
) {
  // On demand, every provisioned-only setting stays out of the template: Lambda would refuse
  // or ignore it (the shared settings already refused any the user asked for).
  const provisioned =
    s.pollerMode === 'provisioned'
      ? {
          provisionedPollerConfig: {
            minimumPollers: s.minPollers,
            maximumPollers: s.maxPollers,
            ...(s.pollerGroupName ? { pollerGroupName: s.pollerGroupName } : {}),
          },
          metricsConfig: { metrics: [...new Set([...(props.metricsConfig?.metrics ?? []), ...ALARMED_MAPPING_METRICS])] },
          ...(props.logLevel ? { logLevel: props.logLevel } : {}),
          ...(props.schemaRegistryConfig ? { schemaRegistryConfig: props.schemaRegistryConfig } : {}),
          // Given, or the breaker's (consumer-settings.ts); -1, Lambda's default, is left out.
          ...(s.retryAttempts !== -1 ? { retryAttempts: s.retryAttempts } : {}),
          ...(props.maxRecordAge ? { maxRecordAge: props.maxRecordAge } : {}),
          ...(props.bisectBatchOnError !== undefined ? { bisectBatchOnError: props.bisectBatchOnError } : {}),
          reportBatchItemFailures: s.reportBatchItemFailures,
        }
      : {};
  const common = {
    topic,
    batchSize: s.batchSize,
    ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
    startingPosition: lambda.StartingPosition[s.startingPosition],
    ...(s.startingPositionTimestamp !== undefined ? { startingPositionTimestamp: s.startingPositionTimestamp } : {}),
    ...(s.consumerGroupId ? { consumerGroupId: mappingConsumerGroupId(s.consumerGroupId, topic) } : {}),
    ...provisioned,
    ...(props.filters ? { filters: [...props.filters] as Array<Record<string, unknown>> } : {}),
    ...(props.enabled !== undefined ? { enabled: props.enabled } : {}),
    // No queue (failureMode 'block'): no destination at all.
    ...(props.onFailure
      ? { onFailure: leastPrivilegeOnFailure(props.onFailure) }
      : onFailureQueue
        ? { onFailure: new sources.SqsDlq(onFailureQueue) }
        : {}),
  };
  const cluster = props.cluster;
  if (cluster.kind === 'msk') return new sources.ManagedKafkaEventSource({ ...common, clusterArn: cluster.clusterArn });
  return new sources.SelfManagedKafkaEventSource({
    ...common,
    bootstrapServers: cluster.bootstrapServers,
    ...(cluster.authSecret
      ? {
          secret: cluster.authSecret,
          authenticationMethod: cluster.authenticationMethod ?? sources.AuthenticationMethod.SASL_SCRAM_512_AUTH,
        }
      : {}),
    ...(cluster.rootCACertificate ? { rootCACertificate: cluster.rootCACertificate } : {}),
    ...(cluster.vpc
      ? {
          vpc: cluster.vpc,
          vpcSubnets: cluster.vpcSubnets ?? {},
          ...(cluster.securityGroup ? { securityGroup: cluster.securityGroup } : {}),
        }
      : {}),
  });
}
