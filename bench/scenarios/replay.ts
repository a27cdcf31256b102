// Scenario 4: 5,000 dead letters from the embedded SQS back onto the embedded broker, by our
// replay function and by a receive-one, produce-one, delete-one loop.
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NonRetryableError, kafkaConsumer } from '../../src/runtime/index.js';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { startLocalServices } from '../../local/services.js';
import { startRemoteAws } from '../aws-server.js';
import { naiveReplay } from '../baselines/naive-replay.js';
import { orderEventText } from '../fixtures.js';
import { progress, runScenario, timeMs } from '../measure.js';
import { scenario } from '../results.js';

const DEAD_LETTERS = 5_000;
const PARTITIONS = 10;
const TOPIC = 'replay-bench';

runScenario(async () => {
  const aws = await startRemoteAws();
  const services = await startLocalServices({ topic: TOPIC, partitions: PARTITIONS, environment: { AWS_ENDPOINT_URL: aws.endpoint } });
  try {
    Object.assign(process.env, services.env, { REPLAY_ALLOWED_TOPICS: TOPIC, KAFKA_IDEMPOTENT_PRODUCER: 'false' });
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false }); // fauxqs' queue URLs are not endpoints
    const queued = async (queueUrl: string) => {
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages);
    };
    // Real dead letters, written by our consumer into a queue of each contender's own.
    // (The consumer reads its queue when it is built.)
    const rejectAllInto = (queueUrl: string) =>
      kafkaConsumer({
        deadLetterQueueUrl: queueUrl,
        processRecord: () => {
          throw new NonRetryableError('dead-lettered for the replay benchmark');
        },
      });
    const deadLetterQueue = async (name: string) => {
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `replay-bench-${name}` }));
      await rejectAllInto(QueueUrl!)(JSON.parse(orderEventText(DEAD_LETTERS, PARTITIONS, { topic: TOPIC })), lambdaContext(300_000));
      const filled = await queued(QueueUrl!);
      if (filled !== DEAD_LETTERS)
        throw new Error(`could not fill the ${name} queue with ${DEAD_LETTERS} dead letters: it holds ${filled}`);
      return QueueUrl!;
    };

    const naiveQueue = await deadLetterQueue('naive');
    let naiveReplayed = 0;
    const naiveMs = await timeMs(async () => {
      const producer = (await createKafka(process.env, 'naive-replay')).producer();
      await producer.connect();
      naiveReplayed = await naiveReplay(sqs, naiveQueue, producer);
      await producer.disconnect();
    });

    const oursQueue = await deadLetterQueue('ours');
    process.env.DLQ_URL = oursQueue;
    const { handler: replay } = await import('../../src/replay/index.js');
    let oursReplayed = 0;
    const oursMs = await timeMs(async () => {
      oursReplayed = (await replay({ maxMessages: DEAD_LETTERS }, lambdaContext(900_000, 'replay'))).replayed;
    });

    for (const [name, count, queueUrl] of [
      ['naive', naiveReplayed, naiveQueue],
      ['ours', oursReplayed, oursQueue],
    ] as const) {
      const left = await queued(queueUrl);
      if (count !== DEAD_LETTERS || left !== 0)
        throw new Error(`${name} replayed ${count} of ${DEAD_LETTERS} and left ${left} in the queue`);
    }
    sqs.destroy();
    const perSecond = (ms: number) => (DEAD_LETTERS / ms) * 1_000;
    progress(
      `ours ${Math.round(perSecond(oursMs))} messages/s (${Math.round(oursMs)} ms), naive ${Math.round(perSecond(naiveMs))} messages/s (${Math.round(naiveMs)} ms)`,
    );
    return [
      scenario(
        'replay',
        'messages/s',
        true,
        perSecond(oursMs),
        { naive: perSecond(naiveMs) },
        {
          deadLetters: DEAD_LETTERS,
          partitions: PARTITIONS,
          broker: 'librdkafka mock cluster (1 broker)',
          sqs: 'fauxqs in another process, on loopback',
          acks: 'all',
          statistic: 'one run each, producer connection included',
        },
      ),
    ];
  } finally {
    await services.stop();
    aws.stop();
  }
});
