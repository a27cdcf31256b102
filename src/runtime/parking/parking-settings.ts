// What failureMode 'park-key' needs, checked once when kafkaConsumer builds the handler: a small
// module of the core (no SDK); the mode's code itself is loaded only when it is on (./index.ts).
import { ConfigurationError } from '../../contract/errors.js';
import { ENV } from '../../contract/index.js';

/**
 * The parked-keys table, once the mode's other needs are checked: the queue its failed records go
 * to and the bucket its parked records wait in.
 * @throws ConfigurationError naming what is missing and how to set it
 */
export function parkingTableFrom(env: NodeJS.ProcessEnv, deadLetters: { queueUrl?: string; bucket?: string }): string {
  const missing = [
    ...(env[ENV.parkedKeysTable] ? [] : [`${ENV.parkedKeysTable} (the DynamoDB table of the parked keys)`]),
    ...(deadLetters.queueUrl ? [] : [`${ENV.deadLetterQueueUrl} or deadLetterQueueUrl (where the record a key is parked behind goes)`]),
    ...(deadLetters.bucket ? [] : [`${ENV.deadLetterBucket} or deadLetterBucket (where parked records wait)`]),
  ];
  if (missing.length > 0)
    throw new ConfigurationError(
      `failureMode is 'park-key' but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set. The KafkaConsumer construct's failureMode: 'park-key' sets them all; locally, set them yourself, or choose another failureMode.`,
    );
  return env[ENV.parkedKeysTable]!;
}
