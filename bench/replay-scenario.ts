// Scenario 4 (bench/scenarios/replay*.ts, each in a process of its own: the replay builds its
// clients once per process): dead letters from the embedded SQS back onto the embedded broker, by our replay
// function and by a receive-one, produce-one, delete-one loop. On AWS both are bound by round
// trips, not by this machine's CPU: `replay` puts SQS_RTT_MS in front of every SQS answer (the
// fault proxy, as the failure path does) and KAFKA_RTT_MS on the broker's; `replay-loopback`
// runs without either, where both contenders are CPU-bound.
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { NonRetryableError, kafkaConsumer } from '../src/runtime/index.js';
import { createKafka } from '../src/kafka/kafka-connection.js';
import { lambdaContext } from '../local/esm/lambda-context.js';
import { startLocalServices } from '../local/services.js';
import { startRemoteAws } from './aws-server.js';
import { naiveReplay } from './baselines/naive-replay.js';
import { orderEventText } from './fixtures.js';
import { DEFAULT_RECEIVERS, ROUND_MESSAGES } from '../src/replay/replayer.js';
import { progress, timeMs } from './measure.js';
import { scenario } from './results.js';

const PARTITIONS = 10;
const TOPIC = 'replay-bench';
/** A ReceiveMessage or DeleteMessageBatch from a Lambda function to SQS in its region takes several milliseconds. */
export const SQS_RTT_MS = 5;
/** A produce with acks=all within a region (replicated to the other zones' brokers) takes a few. */
export const KAFKA_RTT_MS = 2;

export interface ReplayRow {
  readonly deadLetters: number;
  readonly sqsRttMs: number;
  readonly kafkaRttMs: number;
}

export async function replayScenario(id: string, { deadLetters: DEAD_LETTERS, sqsRttMs, kafkaRttMs }: ReplayRow) {
  const aws = await startRemoteAws({ rttMs: sqsRttMs });
  const services = await startLocalServices({ topic: TOPIC, partitions: PARTITIONS, environment: { AWS_ENDPOINT_URL: aws.endpoint } });
  try {
    if (kafkaRttMs) await services.kafka!.setBrokerRtt(1, kafkaRttMs);
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
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${id}-${name}` }));
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
    const { handler: replay } = await import('../src/replay/index.js');
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
    // What the round trips alone allow: each receiver's round is ROUND_MESSAGES / 10 receives one
    // after the other, then one produce (the partitions' at once) and the deletes (at once).
    const roundMs = (ROUND_MESSAGES / 10) * sqsRttMs + kafkaRttMs + sqsRttMs;
    const roundTripBound = roundMs > 0 ? Math.round(((DEFAULT_RECEIVERS * ROUND_MESSAGES) / roundMs) * 1_000) : undefined;
    progress(
      `${id}: ours ${Math.round(perSecond(oursMs))} messages/s (${Math.round(oursMs)} ms), naive ${Math.round(perSecond(naiveMs))} messages/s (${Math.round(naiveMs)} ms)`,
    );
    return scenario(
      id,
      'messages/s',
      true,
      perSecond(oursMs),
      { naive: perSecond(naiveMs) },
      {
        deadLetters: DEAD_LETTERS,
        partitions: PARTITIONS,
        sqsRttMs,
        kafkaRttMs,
        broker: `librdkafka mock cluster (1 broker)${kafkaRttMs ? `, every answer ${kafkaRttMs} ms late` : ''}`,
        sqs: sqsRttMs
          ? `fauxqs in another process, every answer ${sqsRttMs} ms late (local/fault-proxy.ts)`
          : 'fauxqs in another process, on loopback',
        acks: 'all',
        ...(roundTripBound ? { receivers: DEFAULT_RECEIVERS, roundMessages: ROUND_MESSAGES, roundTripBound } : {}),
        statistic: 'one run each, producer connection included',
      },
    );
  } finally {
    await services.stop();
    aws.stop();
  }
}
