// kafkaConsumer's `idempotency` option: its settings, and the whole-batch path (processBatch)
// with the ledger, over the in-memory table (the DynamoDB store itself is tested on the
// embedded DynamoDB in test/e2e/idempotency.test.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeLedgerStore } from '../../../support/fake-ledger-store.js';
import { buildKafkaEvent } from '../../../support/kafka-event.js';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';
import { captureOutput } from '../../../support/output.js';

const store = new FakeLedgerStore();
vi.mock('../../../../src/runtime/idempotency/dynamodb-store.js', () => ({
  DynamoDbLedgerStore: class {
    constructor() {
      return store;
    }
  },
}));
const { kafkaConsumer, ConfigurationError } = await import('../../../../src/runtime/index.js');

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const event = (n: number) =>
  buildKafkaEvent(Array.from({ length: n }, (_, offset) => ({ topic: 't', partition: 0, offset, value: JSON.stringify({ offset }) })));

describe('kafkaConsumer with idempotency', () => {
  it('refuses to start without a table, and says how to name one', () => {
    vi.stubEnv('IDEMPOTENCY_TABLE', '');
    expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: true })).toThrow(ConfigurationError);
    expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: true })).toThrow(
      /set IDEMPOTENCY_TABLE .* or give idempotency.table/,
    );
  });

  it('refuses a key that is not a function and intervals that are not whole positive numbers', () => {
    const base = { processRecord: () => undefined };
    expect(() => kafkaConsumer({ ...base, idempotency: { table: 't', key: 'id' as never } })).toThrow(/idempotency.key must be a function/);
    expect(() => kafkaConsumer({ ...base, idempotency: { table: 't', expirySeconds: 0 } })).toThrow(
      /idempotency.expirySeconds must be a whole number of seconds ≥ 1, got 0/,
    );
    expect(() => kafkaConsumer({ ...base, idempotency: { table: 't', flushIntervalMs: 1.5 } })).toThrow(/idempotency.flushIntervalMs/);
  });

  it('gives processBatch only the records whose work is not done, and counts the others as skipped', async () => {
    const batches: number[][] = [];
    const handler = kafkaConsumer<{ offset: number }>({
      consumerGroupId: 'batch',
      idempotency: { table: 'ledger' },
      processBatch: (records) => void batches.push(records.map((r) => r.offset)),
    });
    const output = captureOutput();
    await handler(event(3), lambdaContext());
    await handler(event(5), lambdaContext());
    expect(batches).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    const metrics = output.filter((l) => 'RecordsSkippedAsDone' in l);
    expect(metrics.map((m) => [m.RecordsProcessed, m.RecordsSkippedAsDone])).toEqual([
      [3, 0],
      [2, 3],
    ]);
  });
});

describe('kafkaConsumer without idempotency', () => {
  it("warns at cold start when the construct's ledger table is there but the handler does not use it", () => {
    vi.stubEnv('IDEMPOTENCY_TABLE', 'ledger');
    const output = captureOutput();
    kafkaConsumer({ processRecord: () => undefined });
    kafkaConsumer({ processRecord: () => undefined, idempotency: false });
    expect(output.filter((l) => String(l.message).includes('no idempotency option'))).toHaveLength(1);
  });
});
