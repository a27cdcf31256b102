import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';

// What the chaos run watches of the mapping's consumer: how far its group is behind, and whether
// it stopped over the cluster's trouble (the run starts it again) or over anything else.

/** Polls `done` until it holds, or the deadline passes or `cutShort` holds (false); `failed` ends the wait with its error. */
export async function until(
  done: () => Promise<boolean>,
  failed: () => Error | undefined,
  giveUpAt: number,
  cutShort = () => false,
): Promise<boolean> {
  while (!(await done())) {
    const error = failed();
    if (error) throw error;
    if (Date.now() > giveUpAt || cutShort()) return false;
    await sleep(500);
  }
  return true;
}

/** Kafka errors that come from the cluster's state (an error answer, a broker out of reach), not from the records. */
const CLUSTER_TROUBLE = new Set([
  'KafkaJSProtocolError',
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSNumberOfRetriesExceeded',
]);

/** True when the emulator stopped over the cluster's trouble: some error in its chain of causes is one of {@link CLUSTER_TROUBLE}. */
export function isClusterTrouble(error: Error): boolean {
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) if (CLUSTER_TROUBLE.has(cause.name)) return true;
  return false;
}

/**
 * What keeps the group from having caught up: the partitions whose committed offset is short of
 * their end, or the error that kept the question from being answered; undefined when every
 * record has been decided.
 */
export async function behind(admin: Admin, groupId: string, topic: string): Promise<string | undefined> {
  try {
    const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
    const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const short = ends
      .filter((p) => Number(p.high) > 0 && at.get(p.partition) !== Number(p.high))
      .map((p) => `partition ${p.partition} committed ${at.get(p.partition)} of ${p.high}`);
    return short.length ? short.join(', ') : undefined;
  } catch (error) {
    return `cannot tell: ${(error as Error).message}`; // e.g. a broker is down: ask again
  }
}
