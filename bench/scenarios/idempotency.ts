// Scenario: the idempotency ledger's happy path (every record new), our handler against
// Powertools' per-record `makeIdempotent`, both on the same DynamoDB server (dynalite, in a process
// of its own) behind the fault proxy with a round trip as from a Lambda function to DynamoDB in
// its region (DYNAMODB_RTT_MS per call): 100-record batches of one partition, and of six.
// DynamoDB calls are counted at the server.
import type { KafkaEvent } from '../../src/runtime/event.js';
import { kafkaConsumer } from '../../src/runtime/index.js';
import { idempotencyLedger } from '../../src/runtime/idempotency/index.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createLedgerTable } from '../../local/services.js';
import { buildKafkaEvent } from '../../local/esm/lambda-event.js';
import { startRemoteAws } from '../aws-server.js';
import { powertoolsIdempotentHandler } from '../baselines/powertools-idempotency.js';
import { noop, orderJson, type BenchHandler } from '../fixtures.js';
import { progress, runScenario, timeMs } from '../measure.js';
import { scenario } from '../results.js';
import { DynamoDbLedgerStore } from '../../src/runtime/idempotency/dynamodb-store.js';
import { OffsetRanges } from '../../src/runtime/offset-ranges.js';

const BATCH = 100;
/** A DynamoDB call from a Lambda function in the same region takes a few milliseconds. */
const DYNAMODB_RTT_MS = 5;
const WARMUP_BATCHES = 2;
const TIMED_BATCHES = { ours: 40, powertools: 4 };

runScenario(async () => {
  const dynamodb = await startRemoteAws({ rttMs: DYNAMODB_RTT_MS, service: 'dynamodb' });
  try {
    // The table as the construct creates it (only DynamoDB: the SQS/S3 emulator would be idle here).
    const table = 'bench-idempotency';
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    const admin = new DynamoDBClient({});
    await createLedgerTable(admin, table);
    admin.destroy();
    const ours = kafkaConsumer({
      consumerGroupId: 'bench',
      idempotency: idempotencyLedger({ table }),
      processRecord: (record) => noop(record.value),
    });
    const handlers: Record<string, BenchHandler> = {
      ours: (event, context) => ours(event, context),
      powertools: powertoolsIdempotentHandler(table, (record) =>
        noop(JSON.parse(Buffer.from(record.value as string, 'base64').toString())),
      ),
    };
    const window = await crashWindow();
    progress(`crash window: ${JSON.stringify(window)}`);
    const onePartition = await measure('idempotency-1-partition', 1);
    return [{ ...onePartition, inputs: { ...onePartition.inputs, crashWindow: window } }, await measure('idempotency-6-partitions', 6)];

    /**
     * The crash window: how long after a record's work its "done" is in the table (a crash in
     * between runs it again), over batches whose records take about a millisecond each: from
     * each record's end to the end of the first write that holds its offset.
     */
    async function crashWindow() {
      const finished = new Map<number, number>();
      const written: Array<{ at: number; done: OffsetRanges }> = [];
      const save = DynamoDbLedgerStore.prototype.save;
      DynamoDbLedgerStore.prototype.save = async function (this: DynamoDbLedgerStore, ...args: Parameters<typeof save>) {
        const kept = await save.apply(this, args);
        written.push({ at: performance.now(), done: OffsetRanges.parse(args[2]) });
        return kept;
      };
      const slow = kafkaConsumer({
        consumerGroupId: 'bench-window',
        idempotency: idempotencyLedger({ table }),
        processRecord: async (record) => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          finished.set(record.offset, performance.now());
        },
      });
      const batches = 5;
      for (let b = 0; b < batches; b++) {
        const records = Array.from({ length: BATCH }, (_, i) => ({
          topic: 'bench-window',
          partition: 0,
          offset: b * BATCH + i,
          value: '{}',
        }));
        await slow(JSON.parse(JSON.stringify(buildKafkaEvent(records))) as KafkaEvent, lambdaContext(60_000));
      }
      DynamoDbLedgerStore.prototype.save = save;
      const windows = [...finished].map(([offset, at]) => written.find((w) => w.at >= at && w.done.has(offset))!.at - at);
      const ms = windows.reduce((a, b) => a + b, 0);
      const span = Math.max(...finished.values()) - Math.min(...finished.values());
      return {
        flushIntervalMs: 100,
        recordMs: Math.round((span / finished.size) * 100) / 100,
        meanMs: Math.round(ms / windows.length),
        maxMs: Math.round(Math.max(...windows)),
        writesPerBatch: written.length / batches,
      };
    }

    async function measure(id: string, partitions: number) {
      const dynamoDbCalls = async () => Object.values(await dynamodb.requests()).reduce((a, b) => a + b, 0);
      const perSecond: Record<string, number> = {};
      const callsPerBatch: Record<string, number> = {};
      let nextOffset = 0;
      // Every batch new records (new offsets): the happy path, where each record runs.
      const batch = () => {
        const from = nextOffset;
        nextOffset += Math.ceil(BATCH / partitions);
        const records = Array.from({ length: BATCH }, (_, i) => ({
          topic: `bench-${id}`,
          partition: i % partitions,
          offset: from + Math.floor(i / partitions),
          value: orderJson(from + i),
        }));
        return JSON.parse(JSON.stringify(buildKafkaEvent(records))) as KafkaEvent;
      };
      for (const [name, handler] of Object.entries(handlers)) {
        for (let i = 0; i < WARMUP_BATCHES; i++) await handler(batch(), lambdaContext(60_000));
        const timed = TIMED_BATCHES[name as keyof typeof TIMED_BATCHES];
        const events = Array.from({ length: timed }, batch);
        const before = await dynamoDbCalls();
        // Batches one after the other, as a mapping delivers a partition's batches.
        const ms = await timeMs(async () => {
          for (const event of events) await handler(event, lambdaContext(60_000));
        });
        callsPerBatch[name] = ((await dynamoDbCalls()) - before) / timed;
        perSecond[name] = ((timed * BATCH) / ms) * 1_000;
      }
      progress(
        `${id}: ours ${Math.round(perSecond.ours!)} records/s, ${callsPerBatch.ours} DynamoDB calls a batch; powertools ${Math.round(perSecond.powertools!)} records/s, ${callsPerBatch.powertools}`,
      );
      return scenario(
        id,
        'records/s',
        true,
        perSecond.ours!,
        { powertools: perSecond.powertools! },
        {
          batchRecords: BATCH,
          partitions,
          callsPerBatch,
          batches: TIMED_BATCHES,
          dynamoDbRttMs: DYNAMODB_RTT_MS,
          dynamodb: `dynalite in another process, every answer ${DYNAMODB_RTT_MS} ms late (local/fault-proxy.ts)`,
          work: 'none (JSON value parsed)',
        },
      );
    }
  } finally {
    dynamodb.stop();
  }
});
