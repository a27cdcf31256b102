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
  /**
   * How long a record is remembered as done, in seconds. Given here, it wins over the construct's
   * `idempotency.expiry`, which synth checks against `maxRecordAge`, the timeout and the
   * dead-letter retention: leave it out on AWS.
   * @default `IDEMPOTENCY_EXPIRY_SECONDS` (the construct's `idempotency.expiry`, which sets it), else 1,209,600 (14 days, SQS's longest retention)
   */
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
      `idempotencyLedger's ${name} must be a whole number of ${unit} ≥ 1, got ${value}; leave it out for the default ${fallback}.`,
    );
  return value;
}

/** The expiry the construct passes in `IDEMPOTENCY_EXPIRY_SECONDS`, else the shared default. */
function defaultExpirySeconds(env: NodeJS.ProcessEnv): number {
  const text = env[ENV.idempotencyExpirySeconds];
  if (text === undefined || text === '') return DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS;
  const seconds = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(seconds) || seconds < 1)
    throw new ConfigurationError(
      `${ENV.idempotencyExpirySeconds} is "${text}"; it must be a whole number of seconds ≥ 1 (the KafkaConsumer construct sets it from idempotency.expiry), or unset for the default ${DEFAULT_IDEMPOTENCY_EXPIRY_SECONDS}.`,
    );
  return seconds;
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
      `idempotency is on but no table is named: set ${ENV.idempotencyTable} (the KafkaConsumer construct's idempotency prop does; locally, the local tools' --idempotency flag) or give idempotencyLedger({ table }).`,
    );
  }
  if (options.key !== undefined && typeof options.key !== 'function')
    throw new ConfigurationError(
      `idempotencyLedger's key must be a function of the record that returns its business id, got ${typeof options.key}.`,
    );
  return {
    store: new DynamoDbLedgerStore(table),
    ids: new ItemIds(consumerGroupId),
    key: options.key as IdempotencyKeyFunction | undefined,
    expirySeconds: positive('expirySeconds', options.expirySeconds, defaultExpirySeconds(env), 'seconds'),
    flushIntervalMs: positive('flushIntervalMs', options.flushIntervalMs, DEFAULT_FLUSH_INTERVAL_MS, 'milliseconds'),
    maxRanges: MAX_DONE_RANGES,
  };
}
