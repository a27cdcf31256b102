// What really happened to every produced record, observed outside the runtime and the emulator:
// the user function's own completions, and the dead-letter queue's contents at the end.
import { ORIGINAL_OFFSET_HEADER, ORIGINAL_PARTITION_HEADER, type DeadLetterEnvelope, type DeadLetterPointer } from '../functions/runtime/envelope';

interface Coordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

interface HeaderSource {
  getString(name: string): string | undefined;
}

/**
 * A record's identity: its original topic-partition@offset. A replayed copy carries the
 * original's partition and offset in headers (the replay's marker), so it counts as the
 * record it was copied from.
 */
export function originalIdentity(record: Coordinates, headers: HeaderSource): string {
  const partition = headers.getString(ORIGINAL_PARTITION_HEADER);
  const offset = headers.getString(ORIGINAL_OFFSET_HEADER);
  return partition !== undefined && offset !== undefined ? `${record.topic}-${partition}@${offset}` : `${record.topic}-${record.partition}@${record.offset}`;
}

/** The same identity for a dead letter (an envelope's headers are base64; a pointer has none). */
export function deadLetterIdentity(letter: DeadLetterEnvelope | DeadLetterPointer): string {
  const headers = 'headers' in letter.record ? letter.record.headers : [];
  const get = (name: string) => {
    const h = headers.find((x) => x.name === name);
    return h ? Buffer.from(h.value, 'base64').toString() : undefined;
  };
  return originalIdentity(letter.record, { getString: get });
}

export interface GroundTruthSummary {
  produced: number;
  /** Distinct records the user function finished. */
  processed: number;
  /** Distinct records whose dead letter is in the queue. */
  deadLettered: number;
  /** Produced, and neither processed nor dead-lettered. */
  lost: number;
  /** Records the user function finished more than once. */
  duplicates: number;
  /** The most times one record was finished. */
  maxProcessedTimes: number;
  /** The first lost records, as topic-partition@offset. */
  lostRecords: string[];
}

export class GroundTruth {
  readonly #produced = new Set<string>();
  readonly #processed = new Map<string, number>();
  readonly #deadLettered = new Set<string>();

  produced(topic: string, partition: number, firstOffset: number, count: number): void {
    for (let i = 0; i < count; i++) this.#produced.add(`${topic}-${partition}@${firstOffset + i}`);
  }

  /** Wraps the user function: a record counts as processed once the function returned for it. */
  recording<R extends Coordinates & { headers: HeaderSource }, A extends unknown[]>(fn: (record: R, ...rest: A) => unknown) {
    return async (record: R, ...rest: A) => {
      await fn(record, ...rest);
      const id = originalIdentity(record, record.headers);
      this.#processed.set(id, (this.#processed.get(id) ?? 0) + 1);
    };
  }

  deadLettered(letter: DeadLetterEnvelope | DeadLetterPointer): void {
    this.#deadLettered.add(deadLetterIdentity(letter));
  }

  /** Produced records not yet processed or dead-lettered. */
  missing(): string[] {
    return [...this.#produced].filter((id) => !this.#processed.has(id) && !this.#deadLettered.has(id));
  }

  summary(): GroundTruthSummary {
    const missing = this.missing();
    let duplicates = 0;
    let maxProcessedTimes = 0;
    for (const n of this.#processed.values()) {
      if (n > 1) duplicates++;
      maxProcessedTimes = Math.max(maxProcessedTimes, n);
    }
    const deadLettered = [...this.#deadLettered].filter((id) => this.#produced.has(id)).length;
    const processed = [...this.#processed.keys()].filter((id) => this.#produced.has(id)).length;
    return { produced: this.#produced.size, processed, deadLettered, lost: missing.length, duplicates, maxProcessedTimes, lostRecords: missing.slice(0, 20) };
  }
}
