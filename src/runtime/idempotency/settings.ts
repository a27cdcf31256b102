import { ConfigurationError } from '../../contract/errors.js';
import { DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS, ENV } from '../../contract/index.js';
import type { KafkaRecord } from '../record.js';
import { DynamoDbLedgerStore } from './dynamodb-store.js';
import type { LedgerSettings } from './idempotency-guard.js';
import { ItemIds, type IdempotencyKeyFunction } from './record-identity.js';

/** The ledger's default `flushIntervalMs`. */
export const DEFAULT_FLUSH_INTERVAL_MS = 100;
/**
 * Ranges of done offsets kept per topic-partition: one per hole (a dead-lettered record). About
 * 20 bytes each, so the item stays a few KB (a write's cost grows by the KB).
 */
export const MAX_DONE_RANGES = 200;

/** The idempotency ledger: a record whose work is done is skipped when it comes again (docs/idempotency.md). */
export interface IdempotencyOptions<V = unknown, K = Buffer | null> {
  /** The ledger's DynamoDB table (partition key `id`, a string). @default `IDEMPOTENCY_TABLE`, which the construct's `idempotency` sets */
  readonly table?: string;
  /**
   * A record's business id: records with the same one are the same work, whatever their
   * offsets. Must return a non-empty string of at most about 2,000 UTF-8 bytes (a DynamoDB key).
   * Two records with the same business id on different partitions may run at once.
   * @default the record's identity: its mapping's group, topic, partition and offset (a replayed copy's: its original's)
   */
  readonly key?: (record: KafkaRecord<V, K>) => string;
  /** How long a record is remembered as done, in seconds. @default 1,209,600 (14 days, SQS's longest retention) */
  readonly expirySeconds?: number;
  /**
   * At most one background write of a partition's done offsets per interval while records run:
   * a crash re-runs the records done in the last interval (plus a round trip). @default 100 ms
   */
  readonly flushIntervalMs?: number;
}

function positive(name: string, value: number | undefined, fallback: number, unit: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigurationError(
      `idempotency.${name} must be a whole number of ${unit} ≥ 1, got ${value}; leave it out for the default ${fallback}.`,
    );
  return value;
}

/** The ledger's settings from `idempotencyLedger`'s options, checked once per handler. */
export function ledgerSettings(
  options: IdempotencyOptions<unknown, unknown>,
  consumerGroupId: string | undefined,
  env: NodeJS.ProcessEnv,
): LedgerSettings {
  const table = options.table ?? env[ENV.idempotencyTable];
  if (!table) {
    throw new ConfigurationError(
      `idempotency is on but no table is named: set ${ENV.idempotencyTable} (the KafkaConsumer construct's idempotency prop does) or give idempotency.table.`,
    );
  }
  if (options.key !== undefined && typeof options.key !== 'function')
    throw new ConfigurationError(
      `idempotency.key must be a function of the record that returns its business id, got ${typeof options.key}.`,
    );
  return {
    store: new DynamoDbLedgerStore(table),
    ids: new ItemIds(consumerGroupId),
    key: options.key as IdempotencyKeyFunction | undefined,
    expirySeconds: positive('expirySeconds', options.expirySeconds, DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS, 'seconds'),
    flushIntervalMs: positive('flushIntervalMs', options.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 'milliseconds'),
    maxRanges: MAX_DONE_RANGES,
  };
}
