// How an invocation's records become tasks: one per partition, or per key with ordering 'key', run
// at most `concurrency` at once.
import type { KafkaEventRecord, PartitionBatch } from './event.js';

/** Runs tasks with at most `limit` at once. */
export async function runConcurrently(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await tasks[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
}

/** A partition's records by key, each key's in offset order (ordering 'key'). */
export function keyGroups(partition: PartitionBatch): KafkaEventRecord[][] {
  const groups = new Map<string | null, KafkaEventRecord[]>();
  for (const entry of partition.entries) {
    const key = entry.key ?? null;
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }
  return [...groups.values()];
}
