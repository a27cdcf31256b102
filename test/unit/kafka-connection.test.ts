import { describe, expect, it } from 'vitest';
import { connectProducer, createKafka } from '../../functions/runtime/kafka-connection';

describe('connectProducer', () => {
  it('rejects a KAFKA_IDEMPOTENT_PRODUCER that is neither true nor false, naming it, before connecting', async () => {
    const kafka = await createKafka({ KAFKA_BROKERS: '127.0.0.1:9' }); // nothing listens: a connect would fail otherwise
    await expect(connectProducer(kafka, { KAFKA_IDEMPOTENT_PRODUCER: 'no' })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'KAFKA_IDEMPOTENT_PRODUCER is "no"; it must be true (the default) or false.',
    });
  });
});
