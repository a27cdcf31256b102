// Trace context (#36) through the handler, with OpenTelemetry's SDK registered as a function does
// (test/support/tracing.ts): the spans, their parents and links, and the dead letter's carriers.
import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  ROOT_CONTEXT,
  INVALID_SPAN_CONTEXT,
  type ContextManager,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KafkaBatchProcessor, type KafkaConsumerOptions } from '../../../src/runtime/batch-processor.js';
import type { KafkaRecord } from '../../../src/runtime/record.js';
import { parseDeadLetter } from '../../../src/runtime/envelope.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { buildKafkaEvent, type BrokerRecord } from '../../support/kafka-event.js';
import { fakeQueue } from '../../support/dead-letter-transport.js';
import { captureOutput } from '../../support/output.js';
import { registerTracing, traceparent, type RegisteredTracing } from '../../support/tracing.js';

const PRODUCER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PRODUCER_SPAN = '00f067aa0ba902b7';
const SECRET = 'card 4111-1111-1111-1111';

let tracing: RegisteredTracing | undefined;
beforeEach(() => void captureOutput());
afterEach(() => {
  tracing?.unregister();
  tracing = undefined;
  vi.restoreAllMocks();
});

function processor(options: Partial<KafkaConsumerOptions>, queue = fakeQueue()) {
  return new KafkaBatchProcessor({
    deadLetterQueueUrl: 'http://queue',
    deadLetterTransport: queue.transport,
    consumerGroupId: 'payments',
    retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    ...options,
  } as KafkaConsumerOptions);
}

const record = (offset: number, value: unknown, headers: BrokerRecord['headers'] = []): BrokerRecord => ({
  topic: 'orders',
  partition: 3,
  offset,
  key: `customer-${offset}`,
  value: value === null ? null : JSON.stringify(value),
  headers,
});
const fromProducer = [['traceparent', traceparent(PRODUCER_TRACE, PRODUCER_SPAN)] as [string, string]];

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
/** Every string a span holds (attributes, events' attributes, status): none may quote a record or an error's message. */
const textOf = (s: ReadableSpan) => JSON.stringify([s.attributes, s.events.map((e) => [e.name, e.attributes]), s.status]);

describe('tracing, with an OpenTelemetry SDK registered', () => {
  it("gives each record a span whose parent is the context its headers carry, linked to the invocation's span; user code's spans are its children", async () => {
    tracing = registerTracing();
    const p = processor({
      processRecord: async () => {
        await trace.getTracer('user').startActiveSpan('charge', async (span) => {
          await Promise.resolve();
          span.end();
        });
      },
    });
    const lambda = lambdaContext();
    const response = await p.process(buildKafkaEvent([record(7, { id: 1 }, fromProducer), record(8, null)]), lambda);
    expect(response).toEqual({ batchItemFailures: [] });

    const spans = tracing.spans();
    const [invocation] = spans.filter((s) => s.attributes['messaging.batch.message_count'] !== undefined);
    expect(invocation).toMatchObject({
      name: 'process orders',
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.batch.message_count': 2,
        'faas.invocation_id': lambda.awsRequestId,
        'cloud.resource_id': lambda.invokedFunctionArn,
      },
    });
    const records = named(spans, 'process orders').filter((s) => s !== invocation);
    const [carried, plain] = [7, 8].map((offset) => records.find((s) => s.attributes['messaging.kafka.offset'] === offset)!);
    expect(carried).toMatchObject({
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'orders',
        'messaging.destination.partition.id': '3',
        'messaging.kafka.offset': 7,
        'messaging.consumer.group.name': 'payments-orders',
        'messaging.message.body.size': Buffer.byteLength(JSON.stringify({ id: 1 })),
        'kafka_consumers.outcome': 'processed',
        'kafka_consumers.attempts': 1,
      },
    });
    // Parent: the producer's span, from the traceparent header; a link to the invocation's span.
    expect(carried!.spanContext().traceId).toBe(PRODUCER_TRACE);
    expect(carried!.parentSpanContext?.spanId).toBe(PRODUCER_SPAN);
    expect(carried!.links.map((l) => l.context.spanId)).toEqual([invocation!.spanContext().spanId]);
    // A record without a context: a child of the invocation's span, no link; a tombstone says so.
    expect(plain!.parentSpanContext?.spanId).toBe(invocation!.spanContext().spanId);
    expect(plain!.links).toEqual([]);
    expect(plain!.attributes).toMatchObject({ 'messaging.kafka.message.tombstone': true });
    expect(plain!.attributes['messaging.message.body.size']).toBeUndefined();
    // Keys only when asked.
    expect(records.every((s) => s.attributes['messaging.kafka.message.key'] === undefined)).toBe(true);
    // User code's own spans are children of its record's.
    const charges = named(spans, 'charge');
    expect(charges.map((s) => s.parentSpanContext?.spanId).sort()).toEqual([carried!, plain!].map((s) => s.spanContext().spanId).sort());
  });

  it('records each failed attempt as an event and the attempts on the span of a retried record; every attempt runs in its context', async () => {
    tracing = registerTracing();
    const parents: Array<string | undefined> = [];
    let calls = 0;
    const p = processor({
      processRecord: () => {
        parents.push(trace.getActiveSpan()?.spanContext().spanId);
        if (++calls < 3) throw new TypeError(`timed out for ${SECRET}`);
      },
    });
    await p.process(buildKafkaEvent([record(0, { id: 1 })]), lambdaContext());
    const span = tracing.spans().find((s) => s.attributes['messaging.kafka.offset'] === 0)!;
    expect(span.attributes).toMatchObject({ 'kafka_consumers.outcome': 'processed', 'kafka_consumers.attempts': 3 });
    expect(span.events.map((e) => [e.name, e.attributes])).toEqual([
      ['attempt failed', { attempt: 1, 'error.type': 'TypeError' }],
      ['attempt failed', { attempt: 2, 'error.type': 'TypeError' }],
    ]);
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(parents).toEqual([1, 2, 3].map(() => span.spanContext().spanId));
    expect(textOf(span)).not.toContain('4111');
  });

  it("marks a dead-lettered record's span an error with the error's type only, and its dead letter keeps the record's and the span's contexts", async () => {
    tracing = registerTracing();
    const queue = fakeQueue();
    const p = processor(
      {
        processRecord: () => {
          throw new RangeError(`declined: ${SECRET}`);
        },
      },
      queue,
    );
    const tracestate = [['tracestate', 'vendor=opaque'] as [string, string]];
    await p.process(buildKafkaEvent([record(5, { card: SECRET }, [...fromProducer, ...tracestate])]), lambdaContext());
    const span = tracing.spans().find((s) => s.attributes['messaging.kafka.offset'] === 5)!;
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span.attributes).toMatchObject({
      'kafka_consumers.outcome': 'dead-lettered',
      'kafka_consumers.attempts': 3,
      'error.type': 'RangeError',
    });
    expect(span.events).toHaveLength(3);
    expect(textOf(span)).not.toContain('4111');
    expect(queue.sent).toHaveLength(1);
    const { spanId, traceId } = span.spanContext();
    expect(queue.sent[0]!.trace).toEqual({
      record: { traceparent: traceparent(PRODUCER_TRACE, PRODUCER_SPAN), tracestate: 'vendor=opaque' },
      failure: { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'vendor=opaque' },
    });
  });

  it('gives a span to a record whose value does not deserialize, though user code never ran for it', async () => {
    tracing = registerTracing();
    const queue = fakeQueue();
    const processRecord = vi.fn();
    const event = buildKafkaEvent([{ ...record(3, {}, fromProducer), value: 'not json' }]);
    await processor({ processRecord }, queue).process(event, lambdaContext());
    expect(processRecord).not.toHaveBeenCalled();
    const span = tracing.spans().find((s) => s.attributes['messaging.kafka.offset'] === 3)!;
    expect(span.parentSpanContext?.spanId).toBe(PRODUCER_SPAN);
    expect(span.attributes).toMatchObject({
      'kafka_consumers.outcome': 'dead-lettered',
      'kafka_consumers.attempts': 1,
      'error.type': 'DeserializationError',
    });
    expect(queue.sent[0]!.trace?.record).toEqual({ traceparent: traceparent(PRODUCER_TRACE, PRODUCER_SPAN) });
  });

  it('keeps only the failure span in the dead letter of a record that carried no context', async () => {
    tracing = registerTracing();
    const queue = fakeQueue();
    const p = processor({ processRecord: () => Promise.reject(new Error('no')) }, queue);
    await p.process(buildKafkaEvent([record(1, {})]), lambdaContext());
    const span = tracing.spans().find((s) => s.attributes['messaging.kafka.offset'] === 1)!;
    expect(queue.sent[0]!.trace).toEqual({ failure: { traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01` } });
  });

  it("keeps a dead letter's carriers within what the replay reads back, whatever the registered propagator writes", async () => {
    tracing = registerTracing();
    // A propagator writing more fields, and longer ones, than an envelope may hold (parseDeadLetter refuses those).
    const w3c = new W3CTraceContextPropagator();
    propagation.disable();
    propagation.setGlobalPropagator({
      extract: (ctx, carrier, getter) => w3c.extract(ctx, carrier, getter),
      inject: (ctx, carrier, setter) => {
        w3c.inject(ctx, carrier, setter);
        setter.set(carrier, 'huge', 'x'.repeat(8_193));
        for (let i = 0; i < 10; i++) setter.set(carrier, `field-${i}`, `${i}`);
      },
      fields: () => ['traceparent'],
    });
    const queue = fakeQueue();
    await processor({ processRecord: () => Promise.reject(new Error('no')) }, queue).process(
      buildKafkaEvent([record(1, {}, fromProducer)]),
      lambdaContext(),
    );
    const { trace: carriers } = queue.sent[0]!;
    for (const carrier of [carriers!.record!, carriers!.failure!]) {
      expect(Object.keys(carrier)).toEqual(['traceparent', ...Array.from({ length: 7 }, (_, i) => `field-${i}`)]);
    }
    expect(parseDeadLetter(JSON.stringify(queue.sent[0]))).toEqual(queue.sent[0]);
  });

  it('says redelivered on the span of a record the invocation could not finish', async () => {
    tracing = registerTracing();
    const p = processor({
      timeSafetyMarginMs: 0,
      processRecord: async () => {
        await new Promise((resolve) => setTimeout(resolve, 150));
        throw new Error('slow and failing');
      },
    });
    const response = await p.process(buildKafkaEvent([record(4, {}), record(5, {})]), lambdaContext(100));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: { partition: 'orders-3', offset: 4 } }]);
    const records = tracing.spans().filter((s) => s.attributes['kafka_consumers.outcome'] !== undefined);
    expect(records).toHaveLength(1);
    expect(records[0]!.attributes).toMatchObject({
      'messaging.kafka.offset': 4,
      'kafka_consumers.outcome': 'redelivered',
      'kafka_consumers.attempts': 1,
    });
    expect(records[0]!.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it("says blocked, an error, on the span of a record that holds its partition (failureMode 'block')", async () => {
    tracing = registerTracing();
    const p = processor({ failureMode: 'block', processRecord: () => Promise.reject(new SyntaxError('bad')) });
    await p.process(buildKafkaEvent([record(2, {})]), lambdaContext());
    const span = tracing.spans().find((s) => s.attributes['messaging.kafka.offset'] === 2)!;
    expect(span.attributes).toMatchObject({ 'kafka_consumers.outcome': 'blocked', 'error.type': 'SyntaxError' });
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('puts the key on the span only when asked', async () => {
    tracing = registerTracing();
    await processor({ tracing: { recordKeys: true }, processRecord: () => undefined }).process(
      buildKafkaEvent([record(9, {})]),
      lambdaContext(),
    );
    const span = tracing.spans().find((s) => s.attributes['messaging.kafka.offset'] === 9)!;
    expect(span.attributes['messaging.kafka.message.key']).toBe('customer-9');
  });

  it('makes no span with tracing: false', async () => {
    tracing = registerTracing();
    const queue = fakeQueue();
    await processor({ tracing: false, processRecord: () => Promise.reject(new Error('no')) }, queue).process(
      buildKafkaEvent([record(1, {}, fromProducer)]),
      lambdaContext(),
    );
    expect(tracing.spans()).toEqual([]);
    expect(queue.sent[0]!.trace).toBeUndefined();
  });

  it('never fails a record for a malformed traceparent: its span is then a child of the invocation span', async () => {
    tracing = registerTracing();
    const malformed: BrokerRecord['headers'] = [
      ['traceparent', Buffer.from([0xff, 0xfe, 0x00])],
      ['traceparent', `00-${'0'.repeat(32)}-${PRODUCER_SPAN}-01`],
      ['tracestate', Buffer.from([0xc3])],
    ];
    const seen: unknown[] = [];
    const p = processor({ processRecord: (r: KafkaRecord) => void seen.push(r.value) });
    const response = await p.process(buildKafkaEvent([record(0, { ok: true }, malformed)]), lambdaContext());
    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([{ ok: true }]);
    const spans = tracing.spans();
    const span = spans.find((s) => s.attributes['messaging.kafka.offset'] === 0)!;
    const invocation = spans.find((s) => s.attributes['messaging.batch.message_count'] !== undefined)!;
    expect(span.parentSpanContext?.spanId).toBe(invocation.spanContext().spanId);
  });

  it('takes an invalid context a propagator extracts for none: the span is then a child of the invocation span', async () => {
    tracing = registerTracing();
    propagation.disable();
    propagation.setGlobalPropagator({
      extract: (ctx) => trace.setSpanContext(ctx, INVALID_SPAN_CONTEXT),
      inject: () => undefined,
      fields: () => [],
    });
    await processor({ processRecord: () => undefined }).process(buildKafkaEvent([record(0, {}, fromProducer)]), lambdaContext());
    const spans = tracing.spans();
    const span = spans.find((s) => s.attributes['messaging.kafka.offset'] === 0)!;
    const invocation = spans.find((s) => s.attributes['messaging.batch.message_count'] !== undefined)!;
    expect(span.parentSpanContext?.spanId).toBe(invocation.spanContext().spanId);
    expect(span.links).toEqual([]);
  });

  it("runs a whole-batch call in the invocation span's context", async () => {
    tracing = registerTracing();
    let active: string | undefined;
    await processor({ processBatch: () => void (active = trace.getActiveSpan()?.spanContext().spanId) }).process(
      buildKafkaEvent([record(0, {}), record(1, {})]),
      lambdaContext(),
    );
    const invocation = tracing.spans().find((s) => s.attributes['messaging.batch.message_count'] !== undefined)!;
    expect(active).toBe(invocation.spanContext().spanId);
  });
});

describe('tracing, with no OpenTelemetry SDK registered', () => {
  it('reads no header, enters no context and keeps no trace in a dead letter', async () => {
    // A propagator and a context manager that count what the runtime asks of them: nothing, when off.
    const extract = vi.fn((ctx: typeof ROOT_CONTEXT) => ctx);
    const propagator: TextMapPropagator = { extract, inject: vi.fn(), fields: () => ['traceparent'] };
    propagation.setGlobalPropagator(propagator);
    const withContext = vi.fn((_c: unknown, fn: (...args: unknown[]) => unknown, thisArg: unknown, ...args: unknown[]) =>
      fn.call(thisArg, ...args),
    );
    const manager: ContextManager = {
      active: () => ROOT_CONTEXT,
      with: withContext as ContextManager['with'],
      bind: (_c, target) => target,
      enable() {
        return this;
      },
      disable() {
        return this;
      },
    };
    context.setGlobalContextManager(manager);
    try {
      const queue = fakeQueue();
      const p = processor(
        {
          processRecord: (r: KafkaRecord) => {
            if ((r.value as { fail?: boolean }).fail) throw new Error('no');
          },
        },
        queue,
      );
      const response = await p.process(
        buildKafkaEvent([record(0, {}, fromProducer), record(1, { fail: true }, fromProducer)]),
        lambdaContext(),
      );
      expect(response).toEqual({ batchItemFailures: [] });
      expect(extract).not.toHaveBeenCalled();
      expect(propagator.inject).not.toHaveBeenCalled();
      expect(withContext).not.toHaveBeenCalled();
      expect(queue.sent).toHaveLength(1);
      expect(queue.sent[0]!.trace).toBeUndefined();
    } finally {
      propagation.disable();
      context.disable();
    }
  });
});
