// `local produce --topic T --value JSON …`: one record onto a topic of KAFKA_BROKERS, the way
// to feed `local run` (and to see a replayed dead letter's topic with `local read`).
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import type { LocalAction } from '../../src/cli/local-command-line.js';
import type { Io } from '../../src/cli/run.js';
import { ENV } from '../../src/contract/index.js';
import { connectProducer, createKafka } from '../../src/kafka/kafka-connection.js';
import { valueOf } from './record-event.js';

export async function produceCommand(action: Extract<LocalAction, { name: 'produce' }>, io: Io): Promise<number> {
  if (!io.env[ENV.kafkaBrokers])
    throw new CliError(
      `local produce writes to ${ENV.kafkaBrokers}, which is not set: start \`kafka-lambda-consumers local services\` and export the NAME=value lines it prints in this shell.`,
    );
  const value = await valueOf(action.record, process.cwd());
  io.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const producer = await connectProducer(await createKafka(io.env, 'local-produce'), io.env);
  // kafkajs takes a repeated header name as one name with a list of values.
  const headers: Record<string, string[]> = {};
  for (const [name, v] of action.record.headers) (headers[name] ??= []).push(v);
  try {
    const [sent] = await producer.send({
      topic: action.topic,
      acks: -1,
      messages: [
        {
          key: action.record.key ?? null,
          value,
          headers,
          ...(action.partition !== undefined ? { partition: action.partition } : {}),
        },
      ],
    });
    io.out(`${JSON.stringify({ topic: action.topic, partition: sent?.partition, offset: Number(sent?.baseOffset) })}\n`);
  } finally {
    await producer.disconnect();
  }
  return EXIT.ok;
}
