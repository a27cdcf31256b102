// Scenario 2: the 10,000-record event with 5% of records failing for good, through our
// handler bundled as `cdk deploy` bundles it (dead letters batched to the embedded SQS) and a
// SendMessage-per-record writer: `failure-path` with a round trip to SQS as a Lambda function
// sees it (SQS_RTT_MS per call), `failure-path-loopback` without one.
import { createRequire } from 'node:module';
import { GetQueueAttributesCommand, PurgeQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { KafkaEvent } from '../../src/runtime/event.js';
import { bundlingOptions } from '../../src/constructs/bundling.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { startLocalServices } from '../../local/services.js';
import { startRemoteAws } from '../aws-server.js';
import { naiveDeadLetterHandler } from '../baselines/naive-dead-letters.js';
import { bundle } from '../bundles.js';
import { orderEventText, type BenchHandler } from '../fixtures.js';
import { progress, runScenario, timeMs } from '../measure.js';
import { rejectMarked } from '../rejecting-consumer.js';
import { scenario } from '../results.js';

const RECORDS = 10_000;
const PARTITIONS = 10;
const FAIL_EVERY = 20; // 5%
const RUNS = 5;
/** A SendMessage from a Lambda function to SQS in its region takes several milliseconds. */
const SQS_RTT_MS = 5;

runScenario(async () => [await failurePath('failure-path', SQS_RTT_MS), await failurePath('failure-path-loopback', 0)]);

async function failurePath(id: string, sqsRttMs: number) {
  const aws = await startRemoteAws({ rttMs: sqsRttMs });
  const services = await startLocalServices({ withKafka: false, environment: { AWS_ENDPOINT_URL: aws.endpoint } });
  try {
    Object.assign(process.env, services.env);
    const queueUrl = services.env.DLQ_URL;
    const sqs = new SQSClient({ useQueueUrlAsEndpoint: false }); // fauxqs' queue URLs are not endpoints
    // Every envelope reads error.stack: source-mapped only when the deployed functions are
    // (tsx turned source maps on for this process; the bundle must be loaded after the switch).
    process.setSourceMapsEnabled(Boolean(bundlingOptions().sourceMap));
    const { file } = await bundle('bench/rejecting-consumer.ts', `failure-consumer-${id}`); // a module of its own: its SQS client is built for this endpoint;
    const { handler: ours } = createRequire(import.meta.url)(file) as { handler: BenchHandler };
    const handlers: Record<string, BenchHandler> = {
      ours: (event, context) => ours(event, context),
      naive: naiveDeadLetterHandler(rejectMarked, sqs, queueUrl),
    };
    const text = orderEventText(RECORDS, PARTITIONS, { failEvery: FAIL_EVERY });
    const failures = Math.ceil(RECORDS / FAIL_EVERY);
    const sqsCalls = async () => {
      const requests = await aws.requests();
      return (requests['AmazonSQS.SendMessage'] ?? 0) + (requests['AmazonSQS.SendMessageBatch'] ?? 0);
    };

    const best: Record<string, number> = { ours: Infinity, naive: Infinity };
    const calls: Record<string, number> = {};
    for (let run = 0; run < RUNS; run++) {
      for (const [name, handler] of Object.entries(handlers)) {
        await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
        const event = JSON.parse(text) as KafkaEvent;
        const before = await sqsCalls();
        const ms = await timeMs(() => handler(event, lambdaContext(300_000)));
        calls[name] = (await sqsCalls()) - before;
        best[name] = Math.min(best[name]!, ms);
        // A fast path that lost dead letters would be no result at all.
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
        );
        const queued = Number(Attributes?.ApproximateNumberOfMessages);
        if (queued !== failures) throw new Error(`${name}: ${queued} dead letters in the queue, expected ${failures}`);
      }
    }
    sqs.destroy();
    const perSecond = (name: string) => (RECORDS / best[name]!) * 1_000;
    progress(
      `${id}: ours ${Math.round(perSecond('ours'))} records/s with ${calls.ours} SQS calls; naive ${Math.round(perSecond('naive'))} records/s with ${calls.naive}`,
    );
    return scenario(
      id,
      'records/s',
      true,
      perSecond('ours'),
      { naive: perSecond('naive') },
      {
        records: RECORDS,
        partitions: PARTITIONS,
        sourceMaps: Boolean(bundlingOptions().sourceMap),
        failedRecords: failures,
        sqsCalls: calls,
        runs: RUNS,
        statistic: 'best run',
        sqsRttMs,
        sqs:
          sqsRttMs > 0
            ? `fauxqs in another process, every answer ${sqsRttMs} ms late (local/fault-proxy.ts)`
            : 'fauxqs in another process, on loopback',
      },
    );
  } finally {
    await services.stop();
    aws.stop();
  }
}
