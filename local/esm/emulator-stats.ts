import type { DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { OffsetRanges } from '../../src/runtime/offset-ranges.js';
import { partitionIds, type BrokerRecord } from './lambda-event.js';

/** What the runtime reported during one invocation (dead letters written, records retried). */
export interface InvocationReport {
  readonly deadLetters: DeadLetterEnvelope[];
  retried: number;
}

/** What the emulator saw, for progress lines, summaries and tests. */
export class EmulatorStats {
  invocations = 0;
  failedInvocations = 0;
  /** Records the handler finished (duplicates included). */
  processed = 0;
  retried = 0;
  deadLettered = 0;
  /** Records reported for redelivery by partial batch responses. */
  redelivered = 0;
  /** Records delivered again after a whole-batch failure. */
  batchRetried = 0;
  discarded = 0;
  /** Records that matched none of the mapping's filters: committed without invoking, as Lambda does. */
  filtered = 0;
  /** Records decided (processed or dead-lettered) more than once. */
  duplicates = 0;
  /**
   * Records the function reported for redelivery in a mapping with partial batch responses off:
   * Lambda ignores the report and commits them, unprocessed.
   */
  lost = 0;
  timeouts = 0;
  /** `topic-partition` → the offsets decided (kept as ranges: memory does not grow with records). */
  readonly outcomes = new Map<string, OffsetRanges>();
  readonly #highWatermarks = new Map<string, number>();
  readonly #committed = new Map<string, number>();

  /** Records between each partition's committed offset and its high watermark at the last fetch (the mapping's OffsetLag). */
  get offsetLag(): number {
    let lag = 0;
    for (const [id, hw] of this.#highWatermarks) lag += Math.max(0, hw - (this.#committed.get(id) ?? 0));
    return lag;
  }

  fetched(id: string, highWatermark: number): void {
    this.#highWatermarks.set(id, highWatermark);
  }

  committed(id: string, nextOffset: number): void {
    this.#committed.set(id, nextOffset);
  }

  decide(id: string, offset: number): void {
    let partition = this.outcomes.get(id);
    if (!partition) this.outcomes.set(id, (partition = new OffsetRanges()));
    if (!partition.add(offset)) this.duplicates++;
  }

  get decided(): number {
    let n = 0;
    for (const p of this.outcomes.values()) n += p.size;
    return n;
  }

  /**
   * Counts an invocation that returned: each record the response named for redelivery (`reported`:
   * partition → lowest offset) is redelivered, or lost when the mapping ignores the report
   * (`honoured` false); each other record was processed or dead-lettered.
   */
  settle(records: readonly BrokerRecord[], reported: ReadonlyMap<string, number>, honoured: boolean, report: InvocationReport): void {
    this.retried += report.retried;
    for (const d of report.deadLetters) this.decide(`${d.record.topic}-${d.record.partition}`, d.record.offset);
    this.deadLettered += report.deadLetters.length;
    const dead = new Set(report.deadLetters.map((d) => `${d.record.topic}-${d.record.partition}@${d.record.offset}`));
    const idOf = partitionIds();
    for (const r of records) {
      const id = idOf(r);
      const from = reported.get(id);
      if (from !== undefined && r.offset >= from) {
        if (honoured) this.redelivered++;
        else {
          this.lost++;
          this.decide(id, r.offset);
        }
      } else if (dead.size === 0 || !dead.has(`${id}@${r.offset}`)) {
        this.processed++;
        this.decide(id, r.offset);
      }
    }
  }
}
