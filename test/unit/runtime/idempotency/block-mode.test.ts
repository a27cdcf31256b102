// failureMode 'block' with the idempotency ledger: a record the ledger cannot key (its `key`
// function throws) is dead-lettered unrun in the other modes; in block mode nothing is
// dead-lettered, so it holds its partition like any record that fails for good.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeLedgerStore } from '../../../support/fake-ledger-store.js';
import { fakeQueue } from '../../../support/dead-letter-transport.js';
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
const { kafkaConsumer } = await import('../../../../src/runtime/index.js');
const { idempotencyLedger } = await import('../../../../src/runtime/idempotency/index.js');

afterEach(() => vi.restoreAllMocks());

describe("failureMode 'block' with the idempotency ledger", () => {
  it('holds a record without a valid key instead of dead-lettering it; the records before it are marked done', async () => {
    const lines = captureOutput();
    const queue = fakeQueue();
    const ran: number[] = [];
    const handler = kafkaConsumer({
      failureMode: 'block',
      deadLetterQueueUrl: 'http://queue',
      deadLetterTransport: queue.transport,
      consumerGroupId: 'block-ledger',
      idempotency: idempotencyLedger({
        table: 't',
        key: (r) => {
          if (r.offset === 1) throw new Error('no id in this record');
          return `id-${r.offset}`;
        },
      }),
      processRecord: (r) => void ran.push(r.offset),
    });
    const event = buildKafkaEvent([0, 1, 2].map((offset) => ({ topic: 't', partition: 0, offset, value: '{}' })));
    const response = await handler(event, lambdaContext());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: { partition: 't-0', offset: 1 } }] });
    expect(ran).toEqual([0]);
    expect(queue.sent).toEqual([]);
    expect(lines.find((l) => l.message === 'partition blocked')).toMatchObject({ offset: 1, errorType: 'IdempotencyKeyError' });
    // Again: 0 is skipped as done, 1 holds the partition once more.
    ran.length = 0;
    expect(await handler(event, lambdaContext())).toEqual(response);
    expect(ran).toEqual([]);
  });
});
