// The replay's tracing with the real OpenTelemetry SDK (in-memory exporter): a send span per copy,
// linked to its dead letter's record and failure contexts and carried in the copy's headers in
// place of the old ones; with no SDK, copies exactly as before and no tracing work at all.
import { INVALID_SPAN_CONTEXT, propagation, SpanKind, SpanStatusCode, trace, type Context, type TextMapGetter } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import type { Message as KafkaMessage, Producer, ProducerBatch } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../../src/kafka/kafka-headers.js';
import { replayMessage } from '../../../src/replay/produce.js';
import { DlqReplayer, type ReplaySummary } from '../../../src/replay/replayer.js';
import type { ReplaySettings } from '../../../src/replay/request.js';
import { startReplayTracing, type ReplayTracing } from '../../../src/replay/trace-links.js';
import { buildEnvelope, type DeadLetterEnvelope, type DeadLetterTrace } from '../../../src/runtime/envelope.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { fakeAws, sqsMessage } from '../../support/fake-aws.js';
import { captureOutput } from '../../support/output.js';
import { handler } from '../../../src/replay/index.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { anyText, bytes, headerName, propertyRuns } from '../../support/properties.js';
import { partitionOf } from '../../support/records.js';
import { registerTracing, traceparentOf, type RegisteredTracing } from '../../support/tracing.js';

let sdk: RegisteredTracing | undefined;
afterEach(() => {
  sdk?.unregister();
  sdk = undefined;
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const PRODUCER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const RECORD_CONTEXT = `00-${PRODUCER_TRACE}-b7ad6b7169203331-01`;
const FAILURE_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const FAILURE_CONTEXT = `00-${FAILURE_TRACE}-00f067aa0ba902b7-01`;
const TRACE: DeadLetterTrace = { record: { traceparent: RECORD_CONTEXT }, failure: { traceparent: FAILURE_CONTEXT } };
/** The record's headers: its producer's context, a vendor's tracestate, and headers that must stay byte for byte. */
const HEADERS: Array<readonly [string, Buffer | string]> = [
  ['a', '1'],
  ['traceparent', RECORD_CONTEXT],
  ['tracestate', 'vendor=opaque'],
  ['bin', Buffer.from([0xff, 0x00, 0x80])],
  ['a', '2'],
  ['__proto__', 'p'],
];

function deadLetter(trace?: DeadLetterTrace, headers = HEADERS, offset = 7): DeadLetterEnvelope {
  const [record] = partitionOf([{ topic: 't', partition: 3, offset, value: '{}', headers }]);
  const failure = { error: new Error('x'), attempts: 3, firstFailureAt: 0, lastFailureAt: 0 };
  return buildEnvelope(record!, { ...failure, source: { functionName: 'f', requestId: 'r', eventSource: 'aws:kafka' }, trace });
}

const settings: ReplaySettings = { source: 'dlq', maxMessages: 10, dryRun: false, filter: {}, allowedTopics: ['t'] };

/** Replays the dead letters through DlqReplayer with this run's tracing; `fail` makes Kafka refuse. */
async function replay(deadLetters: DeadLetterEnvelope[], tracing: ReplayTracing | undefined, fail?: Error) {
  await fakeAws(deadLetters.map((e, i) => sqsMessage(e, i)));
  const batches: ProducerBatch[] = [];
  const producer = {
    sendBatch: async (batch: ProducerBatch) => {
      if (fail) throw fail;
      batches.push(batch);
      return [];
    },
  } as unknown as Producer;
  const replayer = new DlqReplayer({
    queueUrl: 'https://sqs/dlq',
    producer: async () => producer,
    replayLimit: 3,
    receivers: 1,
    retry: new RetryPolicy({ maxAttempts: 1 }),
    ...(tracing ? { tracing } : {}),
  });
  const summary = await replayer.run(settings, Date.now() + 10_000);
  await tracing?.end(summary, undefined);
  return { summary, copies: batches.flatMap((b) => b.topicMessages!.flatMap((t) => t.messages)) };
}

const sendSpans = () => sdk!.spans().filter((s) => s.kind === SpanKind.PRODUCER);
const named = (m: KafkaMessage, name: string) => m.orderedHeaders!.filter((h) => h.key === name).map((h) => String(h.value));
/** A copy's headers other than the W3C trace context's, as [name, bytes]: what must not change. */
const others = (m: KafkaMessage) =>
  m.orderedHeaders!.filter((h) => h.key !== 'traceparent' && h.key !== 'tracestate').map((h) => [h.key, Buffer.from(h.value!)]);
const linksOf = (span: ReadableSpan) =>
  span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, as: l.attributes?.['kafka_consumers.link'] }));

describe('replay tracing, with an SDK registered', () => {
  it("gives each copy a send span linked to its record's and its failure's contexts, parented by the run", async () => {
    sdk = registerTracing();
    const tracing = startReplayTracing({ 'faas.invocation_id': 'req-1' });
    expect(tracing).toBeDefined();
    const { summary, copies } = await replay([deadLetter(TRACE)], tracing);
    expect(summary).toMatchObject({ replayed: 1, failed: 0 });
    const [send] = sendSpans();
    expect(send).toMatchObject({
      name: 'send t',
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': 't',
        'messaging.destination.partition.id': '3',
      },
      status: { code: SpanStatusCode.UNSET },
    });
    expect(linksOf(send!)).toEqual([
      { traceId: PRODUCER_TRACE, spanId: 'b7ad6b7169203331', as: 'record' },
      { traceId: FAILURE_TRACE, spanId: '00f067aa0ba902b7', as: 'failure' },
    ]);
    const run = sdk.spans().find((s) => s.name === 'replay dead letters')!;
    expect(send!.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(run.attributes).toMatchObject({
      'faas.invocation_id': 'req-1',
      'kafka_consumers.replay.received': 1,
      'kafka_consumers.replay.replayed': 1,
      'kafka_consumers.replay.unreadable_trace_contexts': 0,
    });
    expect(copies).toHaveLength(1);
  });

  it("replaces the copy's traceparent (and the stale tracestate) with its send span's; every other header stays byte for byte", async () => {
    sdk = registerTracing();
    const envelope = deadLetter(TRACE);
    const { copies } = await replay([envelope], startReplayTracing({}));
    const [copy] = copies;
    const [send] = sendSpans();
    expect(named(copy!, 'traceparent')).toEqual([traceparentOf(send!)]);
    expect((copy!.headers as Record<string, Buffer[]>).traceparent!.map(String)).toEqual([traceparentOf(send!)]);
    expect(named(copy!, 'tracestate')).toEqual([]);
    const today = replayMessage(envelope, true);
    expect(others(copy!)).toEqual(others(today));
    expect(named(today, 'traceparent')).toEqual([RECORD_CONTEXT]); // what the copy carried without tracing
  });

  it("keeps the record's baggage when the propagator carries baggage", async () => {
    sdk = registerTracing(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
    const { copies } = await replay([deadLetter(TRACE, [...HEADERS, ['baggage', 'tenant=acme']])], startReplayTracing({}));
    expect(named(copies[0]!, 'baggage')).toEqual(['tenant=acme']);
    expect(named(copies[0]!, 'traceparent')).toEqual([traceparentOf(sendSpans()[0]!)]);
  });

  it('replays a dead letter whose carriers give no context (or whose propagator throws) without links, and counts them', async () => {
    sdk = registerTracing();
    const unreadable = { record: { traceparent: 'not a context' }, failure: { traceparent: `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01` } };
    const tracing = startReplayTracing({})!;
    const { summary, copies } = await replay([deadLetter(unreadable), deadLetter({ record: {} }, HEADERS, 8)], tracing);
    expect(summary).toMatchObject({ replayed: 2, failed: 0 });
    expect(sendSpans().map(linksOf)).toEqual([[], []]);
    expect(copies.map((c) => named(c, 'traceparent'))).toEqual(sendSpans().map((s) => [traceparentOf(s)]));
    expect(tracing.unreadableContexts).toBe(3);
    const run = sdk.spans().find((s) => s.name === 'replay dead letters')!;
    expect(run.attributes['kafka_consumers.replay.unreadable_trace_contexts']).toBe(3);
  });

  it('replays when the registered propagator throws reading a carrier', async () => {
    class Throwing extends W3CTraceContextPropagator {
      override extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
        if (carrier && typeof carrier === 'object' && 'traceparent' in carrier) throw new Error('bad carrier');
        return super.extract(context, carrier, getter);
      }
    }
    sdk = registerTracing(new Throwing());
    const { summary, copies } = await replay([deadLetter(TRACE)], startReplayTracing({}));
    expect(summary).toMatchObject({ replayed: 1, failed: 0 });
    expect(linksOf(sendSpans()[0]!)).toEqual([]);
    expect(named(copies[0]!, 'traceparent')).toEqual([traceparentOf(sendSpans()[0]!)]);
  });

  it('replays a copy with its headers as they were when the propagator throws writing the context', async () => {
    class Throwing extends W3CTraceContextPropagator {
      override inject(): void {
        throw new Error('cannot write');
      }
    }
    sdk = registerTracing(new Throwing());
    const envelope = deadLetter(TRACE);
    const { summary, copies } = await replay([envelope], startReplayTracing({}));
    expect(summary).toMatchObject({ replayed: 1, failed: 0 });
    expect(copies).toEqual([replayMessage(envelope, true)]);
    expect(linksOf(sendSpans()[0]!)).toHaveLength(2);
  });

  it('links to no context a propagator gives that is not valid', async () => {
    class Invalid extends W3CTraceContextPropagator {
      override extract(context: Context): Context {
        return trace.setSpanContext(context, INVALID_SPAN_CONTEXT);
      }
    }
    sdk = registerTracing(new Invalid());
    const tracing = startReplayTracing({})!;
    const { summary } = await replay([deadLetter(TRACE)], tracing);
    expect(summary).toMatchObject({ replayed: 1, failed: 0 });
    expect(linksOf(sendSpans()[0]!)).toEqual([]);
    expect(tracing.unreadableContexts).toBe(2);
  });

  it("marks the send spans of a produce Kafka refused ERROR with the error's type, never its message", async () => {
    sdk = registerTracing();
    class KafkaJSProtocolError extends Error {
      override name = 'KafkaJSProtocolError';
    }
    const { summary } = await replay([deadLetter(TRACE)], startReplayTracing({}), new KafkaJSProtocolError('quoting {"card":"4111"}'));
    expect(summary).toMatchObject({ replayed: 0, failed: 1 });
    const [send] = sendSpans();
    expect(send!.status.code).toBe(SpanStatusCode.ERROR);
    expect(send!.attributes['error.type']).toBe('KafkaJSProtocolError');
    expect(JSON.stringify([send!.attributes, send!.events, send!.status])).not.toContain('4111');
  });

  it('names no partition on a send span to a targetTopic: the producer picks it', async () => {
    sdk = registerTracing();
    await fakeAws([sqsMessage(deadLetter(TRACE), 0)]);
    const producer = { sendBatch: async () => [] } as unknown as Producer;
    const replayer = new DlqReplayer({
      queueUrl: 'q',
      producer: async () => producer,
      replayLimit: 3,
      receivers: 1,
      tracing: startReplayTracing({}),
    });
    await replayer.run({ ...settings, targetTopic: 'u', allowedTopics: ['u'] }, Date.now() + 10_000);
    expect(sendSpans()[0]).toMatchObject({ name: 'send u', attributes: { 'messaging.destination.name': 'u' } });
    expect(sendSpans()[0]!.attributes).not.toHaveProperty('messaging.destination.partition.id');
  });

  // Property: whatever carriers a dead letter holds (the parser's bounds: ≤ 8 string fields), it is
  // replayed; its copy has one traceparent, its send span's; it links to exactly the carriers that
  // give a valid context; and every header not the propagator's is as it was.
  it('replays any carriers, linking to the readable ones only', async () => {
    sdk = registerTracing();
    const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
    const traceparent = fc.oneof(
      fc.tuple(hex(32), hex(16), fc.constantFrom('00', '01')).map(([t, s, f]) => `00-${t}-${s}-${f}`),
      anyText(60),
    );
    const carrier = fc.option(
      fc.dictionary(fc.oneof(fc.constantFrom('traceparent', 'tracestate', 'baggage'), anyText(8)), fc.oneof(traceparent, anyText(40)), {
        maxKeys: 8,
      }),
      { nil: undefined },
    );
    const headers = fc.array(fc.tuple(fc.oneof(headerName, fc.constantFrom('traceparent', 'tracestate')), bytes(16)), { maxLength: 6 });
    // W3C's rule, independently of the propagator: version 00, ids not all zero.
    const valid = (c: Record<string, string> | undefined) =>
      /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-0[01]$/.test(c?.traceparent ?? '');
    await fc.assert(
      fc.asyncProperty(carrier, carrier, headers, async (record, failure, recordHeaders) => {
        sdk!.reset();
        const envelope = deadLetter({ ...(record ? { record } : {}), ...(failure ? { failure } : {}) }, recordHeaders);
        const { summary, copies }: { summary: ReplaySummary; copies: KafkaMessage[] } = await replay([envelope], startReplayTracing({}));
        expect(summary).toMatchObject({ replayed: 1, failed: 0 });
        const [send] = sendSpans();
        expect(named(copies[0]!, 'traceparent')).toEqual([traceparentOf(send!)]);
        expect(linksOf(send!).map((l) => l.as)).toEqual([...(valid(record) ? ['record'] : []), ...(valid(failure) ? ['failure'] : [])]);
        expect(others(copies[0]!)).toEqual(others(replayMessage(envelope, true)));
      }),
      propertyRuns(),
    );
  });
});

describe('replay tracing, with no SDK registered', () => {
  it('starts nothing and touches no trace API per record: copies exactly as before', async () => {
    const extract = vi.spyOn(propagation, 'extract');
    const inject = vi.spyOn(propagation, 'inject');
    const tracing = startReplayTracing({});
    expect(tracing).toBeUndefined();
    const envelope = deadLetter(TRACE);
    const { copies } = await replay([envelope], tracing);
    expect(copies).toEqual([replayMessage(envelope, true)]);
    expect(named(copies[0]!, 'traceparent')).toEqual([RECORD_CONTEXT]); // the replayed record joins its original trace
    expect(extract).not.toHaveBeenCalled();
    expect(inject).not.toHaveBeenCalled();
  });
});

describe('the replay handler, traced', () => {
  it("makes the invocation's run span, with its request id and the run's counts", async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    vi.stubEnv('REPLAY_ALLOWED_TOPICS', 't');
    sdk = registerTracing();
    captureOutput();
    await fakeAws([sqsMessage(deadLetter(TRACE), 0), sqsMessage(deadLetter(TRACE, HEADERS, 8), 1)]);
    const context = lambdaContext(60_000, 'replay');
    await handler({ dryRun: true }, context);
    const [run] = sdk.spans();
    expect(run).toMatchObject({
      name: 'replay dead letters',
      kind: SpanKind.INTERNAL,
      attributes: {
        'faas.invocation_id': context.awsRequestId,
        'kafka_consumers.replay.received': 2,
        'kafka_consumers.replay.replayed': 2,
      },
    });
  });

  it("marks the run span ERROR with the error's type when the invocation fails", async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    vi.stubEnv('REPLAY_ALLOWED_TOPICS', 't');
    vi.stubEnv('KAFKA_BROKERS', '');
    sdk = registerTracing();
    captureOutput();
    await fakeAws([sqsMessage(deadLetter(TRACE), 0)]);
    await expect(handler({}, lambdaContext(60_000, 'replay'))).rejects.toMatchObject({ name: 'ConfigurationError' });
    const run = sdk.spans().find((s) => s.name === 'replay dead letters')!;
    expect([run.status.code, run.attributes['error.type']]).toEqual([SpanStatusCode.ERROR, 'ConfigurationError']);
  });

  it('traces no S3 on-failure replay: its objects keep no trace contexts', async () => {
    vi.stubEnv('ON_FAILURE_BUCKET', 'failures');
    vi.stubEnv('REPLAY_ALLOWED_TOPICS', 't');
    sdk = registerTracing();
    captureOutput();
    await fakeAws([], {}, (call) => (call.name === 'ListObjectsV2' ? { Contents: [] } : undefined));
    await handler({ source: 's3', dryRun: true }, lambdaContext(60_000, 'replay'));
    expect(sdk.spans()).toEqual([]);
  });
});

describe('ReplayTracing.within', () => {
  it("runs the replay with the run's span active, so instrumented SQS, S3 and Kafka calls join it", async () => {
    sdk = registerTracing();
    const tracing = startReplayTracing({})!;
    const active = await tracing.within(async () => trace.getActiveSpan()?.spanContext().spanId);
    await tracing.end(undefined, new Error('x'));
    expect(active).toBe(sdk.spans()[0]!.spanContext().spanId);
  });
});

describe('the replay handler, exporting', () => {
  it('has the SDK export its spans before it returns (nothing else flushes this bundle), behind any API copy', async () => {
    vi.stubEnv('DLQ_URL', 'https://sqs/dlq');
    vi.stubEnv('REPLAY_ALLOWED_TOPICS', 't');
    captureOutput();
    const exporter = new InMemorySpanExporter();
    // A batch processor that would export only a minute from now: what the layer's SDK uses.
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 })] });
    trace.setGlobalTracerProvider(provider);
    try {
      await fakeAws([sqsMessage(deadLetter(TRACE), 0)]);
      await handler({ dryRun: true }, lambdaContext(60_000, 'replay'));
      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['replay dead letters']);
    } finally {
      await provider.shutdown();
      trace.disable();
    }
  });
});
