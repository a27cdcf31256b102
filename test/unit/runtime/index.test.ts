import { describe, expect, it } from 'vitest';
import * as runtime from '../../../src/runtime/index.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { fakeTransport } from '../../support/dead-letter-transport.js';

describe('kafkaConsumer', () => {
  it('is a middy handler that runs the processor and answers with the partial batch response', async () => {
    const seen: unknown[] = [];
    const fake = fakeTransport();
    const handler = runtime.kafkaConsumer({
      deadLetterQueueUrl: 'q',
      deadLetterTransport: fake.transport,
      processRecord: (r) => {
        if (r.offset === 1) throw new runtime.NonRetryableError('bad');
        seen.push(r.value);
      },
    });
    expect(typeof handler.use).toBe('function');
    const event = buildKafkaEvent([0, 1, 2].map((offset) => ({ topic: 't', partition: 0, offset, value: JSON.stringify({ offset }) })));
    expect(await handler(event, lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ offset: 0 }, { offset: 2 }]);
    expect(fake.accepted.map((e) => e.record.offset)).toEqual([1]);
  });

  it('checks its options when built', () => {
    expect(() => runtime.kafkaConsumer({})).toThrow(runtime.ConfigurationError);
  });

  it("exports the runtime's public classes", () => {
    expect(Object.keys(runtime).sort()).toEqual([
      'ConfigurationError',
      'DeserializationError',
      'IdempotencyKeyError',
      'InvalidEventError',
      'KafkaBatchProcessor',
      'KafkaConsumersError',
      'KafkaRecord',
      'MalformedDeadLetterError',
      'NonRetryableError',
      'RecordHeaders',
      'WholeBatchRetryError',
      'isOutageError',
      'kafkaConsumer',
    ]);
  });
});
