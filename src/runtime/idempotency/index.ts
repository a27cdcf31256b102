// `kafka-lambda-consumers/runtime/idempotency`: the idempotency ledger (docs/idempotency.md). Its
// own entry point, so that a handler that does not import it bundles none of it: the runtime's
// core knows the ledger by its types only (./ledger.ts).
import { IdempotencyGuard } from './idempotency-guard.js';
import type { IdempotencyLedger } from './ledger.js';
import { ledgerSettings, type IdempotencyOptions } from './settings.js';

export type { IdempotencyOptions } from './settings.js';
export type { IdempotencyLedger } from './ledger.js';

/**
 * The ledger for `kafkaConsumer`'s `idempotency`: a record whose work is done is skipped when it
 * comes again (a retried batch, a redelivery, a replayed dead letter).
 *
 * ```ts
 * import { idempotencyLedger } from 'kafka-lambda-consumers/runtime/idempotency';
 * kafkaConsumer<Order>({ processRecord, idempotency: idempotencyLedger({ key: (record) => record.value.orderId }) });
 * ```
 *
 * The options are checked when `kafkaConsumer` builds the handler, which throws a
 * `ConfigurationError` saying how to fix them (no table named, a `key` that is not a function…).
 */
export function idempotencyLedger<V = unknown, K = Buffer | null>(options: IdempotencyOptions<V, K> = {}): IdempotencyLedger<V, K> {
  return {
    options,
    open(consumerGroupId, env) {
      const settings = ledgerSettings(options as IdempotencyOptions<unknown, unknown>, consumerGroupId, env);
      return (...invocation) => new IdempotencyGuard(settings, ...invocation);
    },
  };
}
