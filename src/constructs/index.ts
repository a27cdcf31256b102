// The construct library: `import { KafkaConsumer, DeadLetterReplay } from '<package>'`.
// The consumer runtime, for handlers, is `<package>/runtime`. What is exported here is the public
// surface recorded in api/constructs.api.md (`npm run api`).
export { KafkaConsumer } from './kafka-consumer.js';
export type {
  KafkaConsumerProps,
  KafkaCluster,
  MskCluster,
  SelfManagedCluster,
  ConsumerAlarmThresholds,
  IdempotencyOptions,
  BreakerOptions,
} from './kafka-consumer-props.js';
export { DeadLetterReplay, type DeadLetterReplayProps } from './dead-letter-replay.js';
export { ClusterNetwork, type ClusterNetworkProps, type ClusterVpcProps, type EndpointService } from './cluster-network.js';
// The errors synth throws, to catch as a family (KafkaConsumersError) or one by one.
export { KafkaConsumersError, ConfigurationError, ConstructPropsError, MappingSettingsError } from './errors.js';
// The types of `KafkaConsumer.settings` and of the props.
export type { MappingSettings, EffectiveMappingSettings, PollerMode, StartingPosition } from '../mapping/mapping-settings.js';
export type { RecordFilter } from '../mapping/event-filter.js';
export type { RetryOptions } from '../runtime/retry.js';
export { KAFKA_COMPRESSION_CODECS, type KafkaCompression, type FailureMode } from '../contract/index.js';
