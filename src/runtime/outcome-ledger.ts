import type { DecodedEvent } from './event.js';
import { WholeBatchRetryError } from './errors.js';
import { emptyTopicStats, type TopicStats } from './telemetry.js';

/** The Kafka partial batch response: at most one identifier per partition, the lowest offset to redeliver. */
export interface KafkaBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: { partition: string; offset: number } }>;
}

/** What became of an invocation's records: counts per topic, and where each partition must resume. */
export class OutcomeLedger {
  readonly stats = new Map<string, TopicStats>();
  readonly #redeliverFrom = new Map<string, number>();

  constructor(
    readonly event: DecodedEvent,
    started: number,
  ) {
    for (const p of event.partitions) {
      const s = this.topicStats(p.topic);
      s.received += p.entries.length;
      s.bytes += p.byteCount;
      s.maxRecordAgeMs = Math.max(s.maxRecordAgeMs, started - (p.entries[0]?.timestamp ?? started));
    }
  }

  topicStats(topic: string): TopicStats {
    let s = this.stats.get(topic);
    if (!s) this.stats.set(topic, (s = emptyTopicStats()));
    return s;
  }

  /** The partition must be delivered again from `offset`; the lowest offset reported wins. */
  redeliverFrom(partitionId: string, offset: number): void {
    const current = this.#redeliverFrom.get(partitionId);
    if (current === undefined || offset < current) this.#redeliverFrom.set(partitionId, offset);
  }

  /**
   * The answer to Lambda. With partial responses off the mapping would commit every partition
   * whatever the answer says, so a partition to redeliver fails the whole invocation instead:
   * the batch comes again (records already processed too: duplicates), none is lost.
   */
  response(reportBatchItemFailures: boolean): KafkaBatchResponse {
    const batchItemFailures: KafkaBatchResponse['batchItemFailures'] = [];
    for (const p of this.event.partitions) {
      const offset = this.#redeliverFrom.get(p.id);
      if (offset === undefined) continue;
      batchItemFailures.push({ itemIdentifier: { partition: p.id, offset } });
      // With partial responses off, overwritten below: the whole batch comes again.
      this.topicStats(p.topic).redelivered += p.entries.filter((r) => r.offset >= offset).length;
    }
    if (reportBatchItemFailures || batchItemFailures.length === 0) return { batchItemFailures };
    for (const s of this.stats.values()) s.redelivered = s.received;
    const redeliveries = batchItemFailures.map(({ itemIdentifier }) => itemIdentifier);
    const where = redeliveries.map((r) => `${r.partition} from offset ${r.offset}`).join(', ');
    throw new WholeBatchRetryError(
      `Records of ${where} must be delivered again, but this mapping has partial batch responses off (REPORT_BATCH_ITEM_FAILURES=false), so Lambda would commit them: failing the invocation so that the whole batch is retried. Turn partial batch responses on (provisioned mode) to redeliver only these.`,
      { redeliveries },
    );
  }
}
