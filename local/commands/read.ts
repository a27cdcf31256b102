// `local read --topic T`: what a topic holds, one JSON line per record (key, value and headers as
// text), from the beginning; it stops at the end of what the topic held when it started, unless
// --follow. A new consumer group each time, so nothing is committed for anyone else.
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import type { LocalAction } from '../../src/cli/local-command-line.js';
import type { Io } from '../../src/cli/run.js';
import { ENV } from '../../src/contract/index.js';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { headersInOrder } from '../../src/kafka/kafka-headers.js';
import { untilAborted } from './stop.js';

export async function readCommand(action: Extract<LocalAction, { name: 'read' }>, io: Io): Promise<number> {
  if (!io.env[ENV.kafkaBrokers])
    throw new CliError(
      `local read reads from ${ENV.kafkaBrokers}, which is not set: start \`kafka-lambda-consumers local services\` and export the NAME=value lines it prints in this shell.`,
    );
  const kafka = await createKafka(io.env, 'local-read');
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, number>;
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(action.topic))
      throw new CliError(`there is no topic "${action.topic}" on ${io.env[ENV.kafkaBrokers]} (topics: ${topics.join(', ') || 'none'}).`);
    ends = new Map((await admin.fetchTopicOffsets(action.topic)).filter((p) => p.high !== p.low).map((p) => [p.partition, Number(p.high)]));
  } finally {
    await admin.disconnect();
  }
  if (!action.follow && ends.size === 0) return EXIT.ok;

  const consumer = kafka.consumer({ groupId: `local-read-${action.topic}-${Date.now()}`, maxWaitTimeInMs: 200 });
  const done = new AbortController();
  const stop = AbortSignal.any([io.stop, done.signal]);
  let printed = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: action.topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (stop.aborted) return;
        const offset = Number(message.offset);
        io.out(
          `${JSON.stringify({
            partition,
            offset,
            timestamp: Number(message.timestamp),
            key: message.key?.toString('utf8') ?? null,
            value: message.value?.toString('utf8') ?? null,
            headers: headersInOrder(message).map(({ key, value }) => [key, value?.toString('utf8') ?? null]),
          })}\n`,
        );
        printed++;
        if (!action.follow && offset + 1 >= (ends.get(partition) ?? Infinity)) ends.delete(partition);
        if ((action.max !== undefined && printed >= action.max) || (!action.follow && ends.size === 0)) done.abort();
      },
    });
    await untilAborted(stop);
  } finally {
    await consumer.disconnect();
  }
  return EXIT.ok;
}
