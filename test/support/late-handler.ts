// A function for the sandbox test: each record's work outlasts the invocation's timeout
// (TEST_LATE_MS), then "ok" records succeed and "bad" ones fail for good (a dead letter).
import { kafkaConsumer, NonRetryableError, type KafkaRecord } from '../../src/runtime/index.js';
import { recording } from '../../local/ground-truth.js';

const lateMs = Number(process.env.TEST_LATE_MS);

export const handler = kafkaConsumer<string>({
  deserializer: 'string',
  processRecord: recording(async (record: KafkaRecord<string>) => {
    await new Promise((resolve) => setTimeout(resolve, lateMs));
    if (record.value === 'bad') throw new NonRetryableError('finished too late to matter');
  }),
});
