// The failure-path scenario's consumer: the runtime, rejecting for good every record marked
// `fail`. The scenario runs it bundled as the CDK app bundles the functions.
import { NonRetryableError, kafkaConsumer } from '../src/runtime/index.js';

export const rejectMarked = (value: unknown) => {
  if ((value as { fail?: boolean }).fail) throw new NonRetryableError('order rejected: simulated permanent failure');
};

export const handler = kafkaConsumer({ processRecord: (record) => rejectMarked(record.value) });
