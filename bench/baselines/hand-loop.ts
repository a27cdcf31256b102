import type { KafkaBatchResponse } from '../../src/runtime/index.js';

export interface LoopRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly value?: unknown;
}

/**
 * What a user writes on top of a decoding library: call the function per record and report
 * the first failed offset of each partition (the records after it are redelivered with it).
 * `onFailure` sees every failure; without it, a failed record is only redelivered.
 */
export async function handLoop(
  records: Iterable<LoopRecord>,
  fn: (value: unknown) => void,
  onFailure?: (record: LoopRecord, error: unknown) => Promise<void>,
): Promise<KafkaBatchResponse> {
  const failedAt = new Map<string, number>();
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    if (failedAt.has(id)) continue;
    try {
      fn(r.value);
    } catch (error) {
      if (onFailure) await onFailure(r, error);
      else failedAt.set(id, r.offset);
    }
  }
  return { batchItemFailures: [...failedAt].map(([partition, offset]) => ({ itemIdentifier: { partition, offset } })) };
}
