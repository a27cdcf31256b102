// KafkaConsumer's props as the shared mapping settings (src/mapping), so that synth and the
// emulator validate alike, and the prop names synth errors quote.
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type { KafkaConsumerProps } from './kafka-consumer-props.js';
import { MAPPING_DEFAULTS, MAX_RETRY_ATTEMPTS, type MappingSettings, type SettingNames } from '../mapping/mapping-settings.js';

/** The props that carry each shared setting, so that synth errors name what the user wrote. */
export function propNames(props: KafkaConsumerProps): SettingNames {
  const names: Partial<Record<keyof MappingSettings, string>> = {
    maxBatchingWindowSeconds: 'maxBatchingWindow',
    minPollers: 'provisionedPollerConfig.minimumPollers',
    maxPollers: 'provisionedPollerConfig.maximumPollers',
    pollerGroupName: props.pollerGroupName !== undefined ? 'pollerGroupName' : 'provisionedPollerConfig.pollerGroupName',
    maxRecordAgeSeconds: 'maxRecordAge (seconds)',
    metrics: 'metricsConfig',
    schemaRegistry: 'schemaRegistryConfig',
  };
  return (key) => names[key] ?? key;
}

/** The kind of a schema registry, for the provisioned-mode rule and the docs' coverage. */
function schemaRegistryKind(registry: lambda.ISchemaRegistry | undefined): MappingSettings['schemaRegistry'] {
  if (!registry) return undefined;
  return registry instanceof sources.GlueSchemaRegistry ? 'glue' : 'confluent';
}

/** Converts props to the shared settings (so the emulator and synth validate alike). */
export function mappingSettingsOf(props: KafkaConsumerProps): MappingSettings {
  const pollers = props.provisionedPollerConfig;
  const s: Record<string, unknown> = {
    topics: props.topics,
    consumerGroupId: props.consumerGroupId,
    batchSize: props.batchSize,
    maxBatchingWindowSeconds: props.maxBatchingWindow?.toMilliseconds({ integral: false }),
    startingPosition: props.startingPosition,
    startingPositionTimestamp: props.startingPositionTimestamp,
    pollerMode: props.pollerMode,
    minPollers: pollers?.minimumPollers,
    maxPollers: pollers?.maximumPollers,
    pollerGroupName: props.pollerGroupName ?? pollers?.pollerGroupName,
    retryAttempts: props.retryAttempts ?? breakerRetryAttempts(props),
    maxRecordAgeSeconds: props.maxRecordAge?.toSeconds(),
    bisectBatchOnError: props.bisectBatchOnError,
    reportBatchItemFailures: props.reportBatchItemFailures,
    filters: props.filters,
    metrics: props.metricsConfig?.metrics,
    logLevel: props.logLevel,
    schemaRegistry: schemaRegistryKind(props.schemaRegistryConfig),
  };
  if (typeof s.maxBatchingWindowSeconds === 'number') s.maxBatchingWindowSeconds /= 1_000;
  return Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as MappingSettings;
}

/**
 * The retries the outage breaker needs when none are given: an outage redelivers its records
 * (each cool-down's half-open probe once more) and must never use up the -1 that Lambda caps at
 * ten with the on-failure destination of every mode but 'block' (docs/aws-contracts.md §12). Provisioned mode only: on demand
 * the setting does not exist.
 */
function breakerRetryAttempts(props: KafkaConsumerProps): number | undefined {
  const provisioned = (props.pollerMode ?? MAPPING_DEFAULTS.pollerMode) === 'provisioned';
  // 'block' has no on-failure destination: its -1 is infinite already (and the only value it takes).
  return props.breaker !== false && provisioned && props.failureMode !== 'block' ? MAX_RETRY_ATTEMPTS : undefined;
}
