// The mapping's props CloudFormation constrains beyond the shared settings: a Kafka on-failure topic, schema validation.
import { MappingSettingsError } from './errors.js';
import {
  KAFKA_DESTINATION_PREFIX,
  isLambdaTopicName,
  kafkaFailureTopic,
  topicNameRule,
  type PollerMode,
} from '../mapping/mapping-settings.js';

/**
 * CloudFormation's `OnFailure.Destination` is 12–1024 characters, a Kafka one matching
 * `kafka://([^.]([a-zA-Z0-9\-_.]{0,248}))`: after the 8 characters of `kafka://`, a topic of at least 4.
 */
const MIN_FAILURE_TOPIC_LENGTH = 12 - KAFKA_DESTINATION_PREFIX.length;

/**
 * A Kafka topic as the on-failure destination (Lambda guide, "Using a Kafka topic as an on-failure
 * destination"), as the mapping binds it. @returns the failure topic
 */
export function validateFailureTopic(target: string, topics: readonly string[], pollerMode: PollerMode): string {
  const topic = kafkaFailureTopic(target, [...topics])!; // refuses a source topic, as Lambda does
  // Requirements: "A Kafka on-failure destination is only available for event source mappings with provisioned mode enabled."
  if (pollerMode === 'on-demand') {
    throw new MappingSettingsError(
      `onFailure is ${target} (sources.KafkaDlq), but pollerMode is on-demand: Lambda sends failed records to a Kafka topic only in provisioned mode. Use pollerMode 'provisioned' (the default), or another destination (sources.SqsDlq, sources.SnsDlq, sources.S3OnFailureDestination).`,
    );
  }
  if (!isLambdaTopicName(topic, MIN_FAILURE_TOPIC_LENGTH)) {
    throw new MappingSettingsError(
      `onFailure is ${target}; CloudFormation takes a failure topic of ${topicNameRule(MIN_FAILURE_TOPIC_LENGTH)} (OnFailure.Destination: at least 12 characters, pattern kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))): name another topic.`,
    );
  }
  return topic;
}

/** CloudFormation's SchemaValidationConfigs: 1–2 distinct items, as the mapping binds them. */
export function validateSchemaValidationAttributes(attributes: readonly (string | undefined)[]): void {
  if (attributes.length === 0 || new Set(attributes).size !== attributes.length) {
    throw new MappingSettingsError(
      `schemaRegistryConfig's schemaValidationConfigs is [${attributes.join(', ')}]; CloudFormation takes one or two distinct attributes: give [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }], KEY, or both.`,
    );
  }
}
