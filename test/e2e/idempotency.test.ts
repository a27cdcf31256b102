// The idempotency ledger against the embedded DynamoDB (dynalite, started by the local services
// over a socket, as `npm run services` starts it): each way a record comes again (a redelivery, a
// whole batch retried after a timeout, a replayed dead letter, a second invocation at the same
// time, the retry of a crashed invocation) runs its work once. Handlers run in this process with
// a Lambda-like context; the ledger's table, the dead-letter queue and the replay's headers are the
// real ones. The DynamoDB rules the calls rely on: docs/aws-contracts.md §11.
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { describe, expect, inject, it, vi } from 'vitest';
import { kafkaConsumer, type KafkaRecord } from '../../src/runtime/index.js';
import { idempotencyLedger } from '../../src/runtime/idempotency/index.js';
import type * as Runtime from '../../src/runtime/index.js';
import type * as Ledger from '../../src/runtime/idempotency/index.js';
import { NonRetryableError, WholeBatchRetryError } from '../../src/runtime/errors.js';
import { parseDeadLetter, type DeadLetterEnvelope } from '../../src/runtime/envelope.js';
import { replayMessage } from '../../src/replay/produce.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { startFaultProxy } from '../../local/fault-proxy.js';
import { buildKafkaEvent, type BrokerRecord } from '../support/kafka-event.js';
import { drain, freshQueue, sqsClient } from '../support/sqs.js';
import { useLocalServicesEnv } from '../support/ledger-env.js';

const env = inject('localEnv');
/** The ledger's table, asked for as `--idempotency` asks (the local services name it only then). */
const tableName = useLocalServicesEnv(env);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const records = (n: number, partition = 0, topic = 'orders'): BrokerRecord[] =>
  Array.from({ length: n }, (_, offset) => ({ topic, partition, offset, value: JSON.stringify({ order: `${partition}-${offset}` }) }));

/** A consumer with the ledger on, in a consumer group of its own (its own items in the shared table); counts each record's effect. */
function consumer(
  processRecord: (record: KafkaRecord<{ order: string }>, context: Context) => unknown = () => undefined,
  options: { reportBatchItemFailures?: boolean; deadLetterQueueUrl?: string } = {},
) {
  const effects = new Map<string, number[]>();
  const handler = kafkaConsumer<{ order: string }>({
    consumerGroupId: `idem-${randomUUID()}`,
    idempotency: idempotencyLedger({ table: tableName(), flushIntervalMs: 50 }),
    reportBatchItemFailures: options.reportBatchItemFailures ?? true,
    deadLetterQueueUrl: options.deadLetterQueueUrl ?? env.DLQ_URL,
    retry: { maxAttempts: 1 },
    processRecord: async (record, context) => {
      await processRecord(record, context);
      // The effect happens once the work succeeded.
      const at = effects.get(record.value.order) ?? [];
      effects.set(record.value.order, [...at, Date.now()]);
    },
  });
  const invoke = (event: unknown, timeoutMs = 30_000) => handler(event, lambdaContext(timeoutMs));
  const runs = (order: string) => effects.get(order)?.length ?? 0;
  return { invoke, effects, runs };
}

describe('idempotency ledger on the embedded DynamoDB', () => {
  it('skips a record done once when its batch is delivered again', async () => {
    const { invoke, runs, effects } = consumer();
    const event = buildKafkaEvent([...records(50, 0), ...records(50, 1)]);
    expect(await invoke(event)).toEqual({ batchItemFailures: [] });
    expect(await invoke(event)).toEqual({ batchItemFailures: [] });
    expect(effects.size).toBe(100);
    expect([...effects.keys()].every((order) => runs(order) === 1)).toBe(true);
  });

  it('skips what finished when a whole batch is retried after a timeout', async () => {
    let hang = true;
    const { invoke, runs } = consumer(async (record) => {
      if (record.offset === 5 && hang) await new Promise(() => undefined); // never answers: Lambda kills it at its timeout
    });
    const event = buildKafkaEvent(records(10));
    const timeoutMs = 2_000;
    void invoke(event, timeoutMs).catch(() => undefined); // the timed-out invocation: nothing answers, nothing lets its lease go
    await sleep(timeoutMs + 200); // Lambda retries the batch after the timeout
    hang = false;
    expect(await invoke(event)).toEqual({ batchItemFailures: [] });
    // 0..4 finished before the timeout (their "done" reached the table in the background): run once.
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((o) => runs(`0-${o}`))).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('skips a replayed dead letter whose record was completed by a later whole-batch retry', async () => {
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'idempotency-dlq');
    try {
      let downstreamDown = true;
      const { invoke, runs } = consumer(
        async (record) => {
          if (record.partition === 0 && record.offset === 1 && downstreamDown) throw new NonRetryableError('downstream refused it');
          if (record.partition === 1 && record.offset === 0 && downstreamDown) await sleep(2_500); // past the deadline below
        },
        { reportBatchItemFailures: false, deadLetterQueueUrl: queue.url }, // on-demand: no partial responses
      );
      const event = buildKafkaEvent([...records(3, 0), ...records(2, 1)]);
      // 0-1 is dead-lettered; 1-1 cannot start before the deadline, so the whole batch fails and comes again.
      await expect(invoke(event, 5_000)).rejects.toBeInstanceOf(WholeBatchRetryError);
      downstreamDown = false;
      expect(await invoke(event)).toEqual({ batchItemFailures: [] });
      expect(runs('0-1')).toBe(1); // completed by the retry
      const [message] = await drain(sqs, queue.url, 1);
      const envelope = parseDeadLetter(message!.Body!) as DeadLetterEnvelope;
      // The replay puts the copy on another topic (dlq replay --target-topic), at a new offset.
      const copy = replayMessage(envelope, false);
      const replayed = buildKafkaEvent([
        {
          topic: 'orders-replayed',
          partition: 0,
          offset: 77,
          value: copy.value as Buffer,
          headers: (copy.orderedHeaders ?? []).map((h) => [h.key, h.value!] as [string, Buffer]),
        },
      ]);
      expect(await invoke(replayed)).toEqual({ batchItemFailures: [] });
      expect(runs('0-1')).toBe(1);
      expect([0, 2].map((o) => runs(`0-${o}`))).toEqual([1, 1]);
      expect([0, 1].map((o) => runs(`1-${o}`))).toEqual([1, 1]);
    } finally {
      await queue.remove();
    }
  });

  it('runs a record once when two invocations get it at the same time', async () => {
    const { invoke, effects, runs } = consumer(() => sleep(200));
    const event = buildKafkaEvent(records(5));
    const answers = await Promise.all([invoke(event), invoke(event)]);
    expect(answers).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(effects.size).toBe(5);
    expect([0, 1, 2, 3, 4].map((o) => runs(`0-${o}`))).toEqual([1, 1, 1, 1, 1]);
  });

  it("runs a crashed invocation's record after that invocation's deadline, not before", async () => {
    let crashed = true;
    let crashing: () => void;
    const reachedCrash = new Promise<void>((resolve) => (crashing = resolve));
    const { invoke, effects } = consumer(async (record) => {
      if (crashed && record.offset === 0) {
        crashed = false;
        crashing();
        await new Promise(() => undefined); // the process dies here: no answer, no lease let go
      }
    });
    const event = buildKafkaEvent(records(2));
    const timeoutMs = 3_000;
    const deadline = Date.now() + timeoutMs;
    void invoke(event, timeoutMs).catch(() => undefined); // middy gives up on it at the timeout
    await reachedCrash;
    expect(await invoke(event, 30_000)).toEqual({ batchItemFailures: [] }); // a second poller gets the batch at once
    expect(effects.get('0-0')).toHaveLength(1);
    expect(effects.get('0-0')![0]).toBeGreaterThan(deadline);
  });

  it('runs nothing while the table answers only errors, has the partition redelivered, and runs it once when the table is back', async () => {
    // The fault proxy in front of the embedded DynamoDB: every UpdateItem (the claim) answers 500.
    const proxy = await startFaultProxy(env.AWS_ENDPOINT_URL_DYNAMODB, { breakApi: 'DynamoDB_20120810.UpdateItem' });
    process.env.AWS_ENDPOINT_URL_DYNAMODB = proxy.endpoint;
    vi.resetModules(); // a runtime whose DynamoDB client is built for the proxy
    try {
      const runtime: typeof Runtime = await import('../../src/runtime/index.js');
      const ledgerModule: typeof Ledger = await import('../../src/runtime/idempotency/index.js');
      let runs = 0;
      const handler = runtime.kafkaConsumer({
        consumerGroupId: `idem-${randomUUID()}`,
        idempotency: ledgerModule.idempotencyLedger({ table: tableName() }),
        reportBatchItemFailures: true,
        deadLetterQueueUrl: env.DLQ_URL,
        processRecord: () => void runs++,
      });
      const event = buildKafkaEvent(records(3));
      expect(await handler(event, lambdaContext(4_000))).toEqual({
        batchItemFailures: [{ itemIdentifier: { partition: 'orders-0', offset: 0 } }],
      });
      expect(runs).toBe(0);
      proxy.plan.breakApi = undefined; // the table is back
      expect(await handler(event, lambdaContext(30_000))).toEqual({ batchItemFailures: [] });
      expect(await handler(event, lambdaContext(30_000))).toEqual({ batchItemFailures: [] });
      expect(runs).toBe(3);
    } finally {
      process.env.AWS_ENDPOINT_URL_DYNAMODB = env.AWS_ENDPOINT_URL_DYNAMODB;
      await proxy.stop();
    }
  });
});
