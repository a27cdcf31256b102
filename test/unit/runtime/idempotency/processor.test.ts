// kafkaConsumer's `idempotency` option: its settings, and the whole-batch path (processBatch)
// with the ledger, over the in-memory table (the DynamoDB store itself is tested on the
// embedded DynamoDB in test/e2e/idempotency.test.ts).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeLedgerStore } from '../../../support/fake-ledger-store.js';
import { buildKafkaEvent } from '../../../support/kafka-event.js';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';
import { captureOutput } from '../../../support/output.js';
import { registerTracing } from '../../../support/tracing.js';

const store = new FakeLedgerStore();
vi.mock('../../../../src/runtime/idempotency/dynamodb-store.js', () => ({
  DynamoDbLedgerStore: class {
    constructor() {
      return store;
    }
  },
}));
const { kafkaConsumer, ConfigurationError } = await import('../../../../src/runtime/index.js');
const { idempotencyLedger } = await import('../../../../src/runtime/idempotency/index.js');

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const event = (n: number) =>
  buildKafkaEvent(Array.from({ length: n }, (_, offset) => ({ topic: 't', partition: 0, offset, value: JSON.stringify({ offset }) })));

describe('kafkaConsumer with idempotency', () => {
  it('refuses to start without a table, and says how to name one', () => {
    vi.stubEnv('IDEMPOTENCY_TABLE', '');
    expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: idempotencyLedger() })).toThrow(ConfigurationError);
    expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: idempotencyLedger() })).toThrow(
      /set IDEMPOTENCY_TABLE .* or give idempotencyLedger\(\{ table \}\)/,
    );
  });

  it('refuses `true` or options not made by idempotencyLedger, and says which import makes the ledger', () => {
    const importLine = "import { idempotencyLedger } from 'kafka-lambda-consumers/runtime/idempotency'";
    for (const [option, got] of [
      [true, 'got true'],
      [{ table: 't' }, 'got object'],
    ] as const) {
      expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: option as never })).toThrow(ConfigurationError);
      expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: option as never })).toThrow(
        `idempotency must be false or a ledger made by idempotencyLedger(), ${got}: ${importLine}`,
      );
    }
  });

  it('refuses a key that is not a function and intervals that are not whole positive numbers', () => {
    const base = { processRecord: () => undefined };
    expect(() => kafkaConsumer({ ...base, idempotency: idempotencyLedger({ table: 't', key: 'id' as never }) })).toThrow(
      /idempotencyLedger's key must be a function/,
    );
    expect(() => kafkaConsumer({ ...base, idempotency: idempotencyLedger({ table: 't', expirySeconds: 0 }) })).toThrow(
      /idempotencyLedger's expirySeconds must be a whole number of seconds ≥ 1, got 0/,
    );
    expect(() => kafkaConsumer({ ...base, idempotency: idempotencyLedger({ table: 't', flushIntervalMs: 1.5 }) })).toThrow(
      /idempotencyLedger's flushIntervalMs/,
    );
  });

  it("expires entries after IDEMPOTENCY_EXPIRY_SECONDS (the construct's idempotency.expiry) by default; expirySeconds given wins", async () => {
    vi.stubEnv('IDEMPOTENCY_EXPIRY_SECONDS', '3600');
    captureOutput();
    const expiryOf = async (group: string, idempotency: { table: string; expirySeconds?: number }) => {
      const before = Math.floor(Date.now() / 1000);
      await kafkaConsumer({ consumerGroupId: group, idempotency: idempotencyLedger(idempotency), processRecord: () => undefined })(
        event(1),
        lambdaContext(),
      );
      return store.items.get(`p|${group}-t|t|0`)!.expiresAt! - before;
    };
    expect(await expiryOf('from-env', { table: 'ledger' })).toBeGreaterThanOrEqual(3600);
    expect(await expiryOf('from-env', { table: 'ledger' })).toBeLessThanOrEqual(3601);
    expect(await expiryOf('given', { table: 'ledger', expirySeconds: 60 })).toBeLessThanOrEqual(61);
  });

  it.each(['0', '-5', '1.5', '14d', ' '])('refuses IDEMPOTENCY_EXPIRY_SECONDS=%j, naming it and what it must be', (value) => {
    vi.stubEnv('IDEMPOTENCY_EXPIRY_SECONDS', value);
    expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: idempotencyLedger({ table: 't' }) })).toThrow(
      ConfigurationError,
    );
    expect(() => kafkaConsumer({ processRecord: () => undefined, idempotency: idempotencyLedger({ table: 't' }) })).toThrow(
      `IDEMPOTENCY_EXPIRY_SECONDS is "${value}"; it must be a whole number of seconds ≥ 1`,
    );
  });

  it('gives processBatch only the records whose work is not done, and counts the others as skipped', async () => {
    const batches: number[][] = [];
    const handler = kafkaConsumer<{ offset: number }>({
      consumerGroupId: 'batch',
      idempotency: idempotencyLedger({ table: 'ledger' }),
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
  it('with tracing on, says skipped-as-done on the span of a record whose work was done', async () => {
    const tracing = registerTracing();
    try {
      captureOutput();
      const handler = kafkaConsumer({
        consumerGroupId: 'traced',
        idempotency: idempotencyLedger({ table: 'ledger' }),
        processRecord: () => undefined,
      });
      await handler(event(1), lambdaContext());
      await handler(event(2), lambdaContext());
      const outcomes = tracing
        .spans()
        .filter((s) => s.attributes['kafka_consumers.outcome'] !== undefined)
        .map((s) => [
          s.attributes['messaging.kafka.offset'],
          s.attributes['kafka_consumers.outcome'],
          s.attributes['kafka_consumers.attempts'],
        ]);
      expect(outcomes).toEqual([
        [0, 'processed', 1],
        [0, 'skipped-as-done', 0],
        [1, 'processed', 1],
      ]);
    } finally {
      tracing.unregister();
    }
  });
});

describe('kafkaConsumer without idempotency', () => {
  it("warns at cold start when the construct's ledger table is there but the handler does not use it", () => {
    vi.stubEnv('IDEMPOTENCY_TABLE', 'ledger');
    const output = captureOutput();
    kafkaConsumer({ processRecord: () => undefined });
    kafkaConsumer({ processRecord: () => undefined, idempotency: false });
    const warnings = output.filter((l) => String(l.message).includes('no idempotency option'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(
      "Give kafkaConsumer idempotency: idempotencyLedger(), with import { idempotencyLedger } from 'kafka-lambda-consumers/runtime/idempotency'",
    );
  });
});

describe('kafkaConsumer with idempotency, leases', () => {
  it("lets a partition's lease go once its records are finished, while other partitions still run", async () => {
    let releasedWhileRunning: boolean | undefined;
    const handler = kafkaConsumer<{ offset: number }>({
      consumerGroupId: 'leases',
      idempotency: idempotencyLedger({ table: 'ledger' }),
      processRecord: async (record) => {
        if (record.partition !== 1) return;
        for (let i = 0; i < 50 && store.items.get('p|leases-t|t|0')?.owner !== undefined; i++) await new Promise((r) => setTimeout(r, 10));
        releasedWhileRunning = store.items.get('p|leases-t|t|0')?.owner === undefined;
      },
    });
    const twoPartitions = buildKafkaEvent([
      { topic: 't', partition: 0, offset: 0, value: '{}' },
      { topic: 't', partition: 1, offset: 0, value: '{}' },
    ]);
    captureOutput();
    await handler(twoPartitions, lambdaContext());
    expect(releasedWhileRunning).toBe(true);
    expect(store.items.get('p|leases-t|t|1')?.owner).toBeUndefined(); // and the other one at the end
  });
});

describe('kafkaConsumer with idempotency, an unexpected error', () => {
  it('still lets the leases go before the invocation fails', async () => {
    const { RecordRunner } = await import('../../../../src/runtime/record-runner.js');
    vi.spyOn(RecordRunner.prototype, 'runInOrder').mockRejectedValue(new Error('a bug'));
    const handler = kafkaConsumer({
      consumerGroupId: 'bug',
      idempotency: idempotencyLedger({ table: 'ledger' }),
      processRecord: () => undefined,
    });
    captureOutput();
    await expect(handler(event(1), lambdaContext())).rejects.toThrow('a bug');
    expect(store.items.get('p|bug-t|t|0')).toBeDefined();
    expect(store.items.get('p|bug-t|t|0')?.owner).toBeUndefined();
  });
});
