// Issue 28, acceptance: a record holding characters SQS refuses in a message body (U+FFFF, U+FFFE:
// SendMessage accepts #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF, and JSON.stringify
// leaves these two as they are) in its value, and so in the error the consumer throws, is in the
// dead-letter queue after ONE invocation against the local SQS (which refuses them as SQS does),
// and the replay puts back its exact bytes. Before the fix the dead letter was refused at every
// invocation and the record redelivered, forever: its partition jammed.
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { buildKafkaEvent, type BrokerRecord } from '../../local/esm/lambda-event.js';
import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { headersInOrder } from '../../src/kafka/kafka-headers.js';
import { invoke } from '../support/invoke.js';
import { freshQueue, queueDepth, sqsClient } from '../support/sqs.js';
import { produce, readTopic, uniqueTopic } from '../support/kafka.js';

const env = inject('localEnv');
const sqs = sqsClient(env);

describe('a dead letter holding characters SQS refuses (end to end)', () => {
  it('is in the DLQ after one invocation, and replays to the exact original bytes', async () => {
    const topic = uniqueTopic('hostile');
    await produce(env.KAFKA_BROKERS, topic, [{ value: 'seed', partition: 0 }]);
    // The example consumer's error quotes the order id: U+FFFF in the value reaches the error too.
    const value = Buffer.from(JSON.stringify({ id: 'card\uFFFF4111\uFFFE', simulate: 'permanent-failure' }));
    const headerBytes = Buffer.from('\uFFFF\u0000\uFFFE');
    const record: BrokerRecord = {
      topic,
      partition: 0,
      offset: 42,
      timestamp: 1_700_000_000_000,
      key: Buffer.from('k\uFFFF'),
      value,
      headers: [['trace\uFFFF', headerBytes]],
    };
    const queue = await freshQueue(sqs, 'hostile');

    const { result } = await invoke('consumer', buildKafkaEvent([record]), { ...env, DLQ_URL: queue.url });
    expect(result.response).toEqual({ batchItemFailures: [] }); // nothing redelivered
    expect(result.deadLetters).toHaveLength(1); // accepted by SQS
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 0 }),
    );
    expect(Messages).toHaveLength(1);
    const envelope = JSON.parse(Messages[0]!.Body!) as DeadLetterEnvelope;
    expect(Messages[0]!.Body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(envelope.error.message).toBe('order card\uFFFF4111\uFFFE cannot be processed (simulated permanent failure)');
    expect(envelope.record.headers[0]!.name).toBe('trace\uFFFF');
    expect(Buffer.from(envelope.record.value!, 'base64').equals(value)).toBe(true);

    const replayed = await invoke(
      'replay',
      {},
      { ...env, DLQ_URL: queue.url, REPLAY_ALLOWED_TOPICS: topic, KAFKA_IDEMPOTENT_PRODUCER: 'false' },
    );
    expect(replayed.result.response).toMatchObject({ received: 1, replayed: 1, failed: 0, errors: [] });
    const back = (await readTopic(env.KAFKA_BROKERS, topic, 2)).find((r) => r.message.headers?.['x-dlq-original-offset']);
    expect(back!.message.value!.equals(value)).toBe(true);
    expect(back!.message.key!.equals(Buffer.from('k\uFFFF'))).toBe(true);
    expect(headersInOrder(back!.message)[0]).toEqual({ key: 'trace\uFFFF', value: headerBytes });
    expect(await queueDepth(sqs, queue.url)).toBe(0);
    await queue.remove();
  });
});
