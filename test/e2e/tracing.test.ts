// Trace context end to end, for real (issue #36): OpenTelemetry's SDK registered in this process
// with its in-memory exporter (as ADOT's layer registers one in a function), a producer that puts
// its span's context in the records' headers, the runtime's consumer (in this process, as the Lambda
// would run it) behind the event source mapping emulator on the embedded broker, dead letters in the
// SQS emulation, and the replay function's handler (in this process too, so that its spans reach
// the same exporter) putting the dead letter back on the broker. The spans and links of a record
// processed at once, one retried, and one dead-lettered, replayed and then processed.
import { randomUUID } from 'node:crypto';
import { SpanKind, SpanStatusCode, context, propagation, trace, type SpanContext } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKafka } from '../../src/kafka/kafka-connection.js';
import { kafkaConsumer } from '../../src/runtime/index.js';
import { EventSourceMappingEmulator } from '../../local/esm/emulator.js';
import { lambdaContext } from '../../local/esm/lambda-context.js';
import { produce, uniqueTopic } from '../support/kafka.js';
import { freshQueue, queueDepth, sqsClient } from '../support/sqs.js';
import { registerTracing, type RegisteredTracing } from '../support/tracing.js';

const env = inject('localEnv');
const saved = { ...process.env };
let tracing: RegisteredTracing;
beforeAll(() => {
  tracing = registerTracing();
  // The runtime's and the replay's SDK clients read these, as in Lambda.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
    AWS_REGION: env.AWS_REGION,
    AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
});
afterAll(() => {
  tracing.unregister();
  process.env = saved;
});

const until = async (done: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const sameSpan = (a: SpanContext | undefined, b: SpanContext) => a?.traceId === b.traceId && a.spanId === b.spanId;
const linked = (span: ReadableSpan) => span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId }));
const idOf = (c: SpanContext) => ({ traceId: c.traceId, spanId: c.spanId });

describe('trace context through the consumer, its retries, the dead-letter queue and the replay', () => {
  it('links each record to its producer, and a replayed copy to the original record and its failure', async () => {
    const sqs = sqsClient(env);
    const queue = await freshQueue(sqs, 'tracing');
    const topic = uniqueTopic('e2e-tracing');
    const consumerGroupId = `tr-${randomUUID().slice(0, 8)}`;
    let failures = 0;
    let fixed = false;
    const handler = kafkaConsumer<{ id: string }>({
      consumerGroupId,
      deadLetterQueueUrl: queue.url,
      retry: { maxAttempts: 2, baseDelayMs: 10 },
      processRecord: (record) => {
        const { id } = record.value;
        if (id === 'retried' && failures++ === 0) throw new TypeError('downstream timed out once');
        if (id === 'dead-lettered' && !fixed) throw new RangeError('amount out of range');
      },
    });
    // The producer: its own span per record, its context in the record's headers (W3C traceparent).
    const producerTracer = trace.getTracer('order-service');
    const ids = ['processed', 'retried', 'dead-lettered'];
    const producerSpans = ids.map((id) => producerTracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: { id } }));
    await produce(
      env.KAFKA_BROKERS,
      topic,
      ids.map((id, i) => {
        const headers: Record<string, string> = {};
        propagation.inject(trace.setSpan(context.active(), producerSpans[i]!), headers);
        return { key: id, value: JSON.stringify({ id }), partition: 0, headers };
      }),
    );
    producerSpans.forEach((s) => s.end());
    const emulator = new EventSourceMappingEmulator({
      kafka: await createKafka({ KAFKA_BROKERS: env.KAFKA_BROKERS }),
      topic,
      functionName: `tracing-${consumerGroupId}`,
      bootstrapServers: env.KAFKA_BROKERS,
      handler: (event, lambda) => handler(event as Parameters<typeof handler>[0], lambda),
      retryDelayMs: 50,
      sessionTimeoutMs: 6_000,
      settings: { topics: [topic], batchSize: 10, maxBatchingWindowSeconds: 0, consumerGroupId },
    });
    const recordSpans = () =>
      tracing.spans().filter((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.kafka.offset'] !== undefined);
    const recordSpanAt = (offset: number) => recordSpans().find((s) => s.attributes['messaging.kafka.offset'] === offset);
    try {
      await emulator.start();
      await until(() => recordSpans().length === 3, 'the three records to be processed or dead-lettered');
      await until(async () => (await queueDepth(sqs, queue.url)) === 1, 'the dead letter');

      // Processed at once, and retried: children of their producer's span, in its trace.
      const [processed, retried, deadLettered] = [recordSpanAt(0)!, recordSpanAt(1)!, recordSpanAt(2)!];
      for (const [span, producer] of [
        [processed, producerSpans[0]!],
        [retried, producerSpans[1]!],
        [deadLettered, producerSpans[2]!],
      ] as const) {
        expect(span.name).toBe(`process ${topic}`);
        expect(sameSpan(span.parentSpanContext, producer.spanContext())).toBe(true);
        expect(span.attributes).toMatchObject({
          'messaging.system': 'kafka',
          'messaging.destination.name': topic,
          'messaging.destination.partition.id': '0',
        });
      }
      expect(processed.attributes).toMatchObject({ 'kafka_consumers.outcome': 'processed', 'kafka_consumers.attempts': 1 });
      expect(retried.attributes).toMatchObject({ 'kafka_consumers.outcome': 'processed', 'kafka_consumers.attempts': 2 });
      expect(retried.events.map((e) => [e.name, e.attributes])).toEqual([['attempt failed', { attempt: 1, 'error.type': 'TypeError' }]]);
      expect(deadLettered.attributes).toMatchObject({
        'kafka_consumers.outcome': 'dead-lettered',
        'kafka_consumers.attempts': 2,
        'error.type': 'RangeError',
      });
      expect(deadLettered.status.code).toBe(SpanStatusCode.ERROR);
      // Each record span links to its invocation's span.
      const invocations = tracing
        .spans()
        .filter((s) => s.kind === SpanKind.CONSUMER && s.attributes['messaging.batch.message_count'] !== undefined);
      for (const span of [processed, retried, deadLettered])
        expect(invocations.some((i) => linked(span).some((l) => l.spanId === i.spanContext().spanId))).toBe(true);

      // The cause fixed, the replay function puts the dead letter back on its partition.
      fixed = true;
      Object.assign(process.env, {
        DLQ_URL: queue.url,
        REPLAY_ALLOWED_TOPICS: topic,
        KAFKA_BROKERS: env.KAFKA_BROKERS,
        KAFKA_IDEMPOTENT_PRODUCER: 'false', // the embedded broker cannot (docs/aws-contracts.md §7)
      });
      // Loaded now: its logger and metrics read POWERTOOLS_* when built.
      const { handler: replay } = await import('../../src/replay/index.js');
      const summary = await replay({}, lambdaContext(60_000, 'replay'));
      expect(summary).toMatchObject({ received: 1, replayed: 1, failed: 0, errors: [] });
      await until(() => recordSpanAt(3)?.attributes['kafka_consumers.outcome'] === 'processed', 'the replayed copy to be processed');

      // The send span: a child of the replay's run span, linked to the record's producer and to its failure.
      const run = tracing.spans().find((s) => s.name === 'replay dead letters')!;
      const send = tracing.spans().find((s) => s.kind === SpanKind.PRODUCER && s.name === `send ${topic}` && s.links.length > 0)!;
      expect(sameSpan(send.parentSpanContext, run.spanContext())).toBe(true);
      expect(send.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.destination.name': topic,
        'messaging.destination.partition.id': '0',
      });
      expect(send.links.map((l) => [l.attributes?.['kafka_consumers.link'], idOf(l.context)])).toEqual([
        ['record', idOf(producerSpans[2]!.spanContext())],
        ['failure', idOf(deadLettered.spanContext())],
      ]);
      // The copy's processing is a child of the send span: one click from the original, through its links.
      const copy = recordSpanAt(3)!;
      expect(sameSpan(copy.parentSpanContext, send.spanContext())).toBe(true);
      expect(copy.attributes).toMatchObject({ 'kafka_consumers.outcome': 'processed', 'kafka_consumers.attempts': 1 });
      expect(await queueDepth(sqs, queue.url)).toBe(0);
    } finally {
      await emulator.stop();
      await queue.remove();
    }
  });
});
