// The construct library: `import { KafkaConsumer, DeadLetterReplay } from '<package>'`.
// The consumer runtime, for handlers, is `<package>/runtime`.
export {
  KafkaConsumer, type KafkaConsumerProps, type KafkaCluster, type MskCluster, type SelfManagedCluster, type ConsumerAlarmThresholds,
} from './kafka-consumer.js';
export { DeadLetterReplay, type DeadLetterReplayProps } from './dead-letter-replay.js';
export { ClusterNetwork, type ClusterNetworkProps, type ClusterVpcProps, type EndpointService } from './cluster-network.js';
export {
  MappingSettingsError, type MappingSettings, type EffectiveMappingSettings, type PollerMode, type StartingPosition,
} from '../mapping/mapping-settings.js';
export { FilterPatternError, compileFilters, recordPassesFilters, type RecordFilter, type FilterableRecord, type CompiledFilter } from '../mapping/event-filter.js';
export type { RetryOptions } from '../runtime/retry.js';
export { KafkaConsumersError } from '../contract/errors.js';
export { KAFKA_COMPRESSION_CODECS, type KafkaCompression } from '../contract/index.js';
