// Trace context (docs/tracing.md): OpenTelemetry's API only, a no-op unless the function registers
// an SDK (the ADOT Lambda layer, or its own setup). An invocation's span is started first; when its
// context is invalid (no SDK: the no-op tracer's answer) tracing is off for the invocation and the
// runner makes no record span, no context and no closure.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context as TraceContext,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import type { Context } from 'aws-lambda';
import { describeError } from '../contract/errors.js';
import { TRACER_NAME } from '../contract/index.js';
import { mappingConsumerGroupId } from './consumer-group.js';
import { TRACE_CARRIER_FIELDS, TRACE_FIELD_LENGTH, type DeadLetterTrace, type TraceCarrier } from './envelope.js';
import type { DecodedEvent } from './event.js';
import { base64ByteLength, type KafkaRecord, type RecordHeaders } from './record.js';
import type { RecordCall } from './record-runner.js';

/** The `tracing` option of `kafkaConsumer` (see docs/tracing.md). */
export interface TracingOptions {
  /**
   * Put each record's key on its span (`messaging.kafka.message.key`, as UTF-8 text). Keys can be
   * personal data, and a span goes wherever the traces go. Values are never put on spans.
   * @default false
   */
  readonly recordKeys?: boolean;
}

/** What became of a record, on its span as `kafka_consumers.outcome`. */
export type RecordOutcome = 'processed' | 'dead-lettered' | 'redelivered' | 'parked' | 'blocked' | 'skipped-as-done';

/** The settings of a handler's tracing; undefined when `tracing: false`. */
export interface TracingSettings {
  readonly tracer: Tracer;
  readonly recordKeys: boolean;
  /** The consumer groups' base id (see `mappingConsumerGroupId`). */
  readonly consumerGroupId: string | undefined;
}

export function tracingSettingsFrom(
  option: false | TracingOptions | undefined,
  consumerGroupId: string | undefined,
): TracingSettings | undefined {
  if (option === false) return undefined;
  // A proxy until an SDK registers (ADOT's layer does before the handler loads): one per handler.
  return { tracer: trace.getTracer(TRACER_NAME), recordKeys: option?.recordKeys === true, consumerGroupId };
}

const MESSAGING = { 'messaging.system': 'kafka', 'messaging.operation.type': 'process', 'messaging.operation.name': 'process' };

/** Header values by name (the first of a name; tracestate's several joined by the propagator). */
const HEADERS: TextMapGetter<RecordHeaders> = {
  keys: (headers) => [...new Set(Array.from(headers, (h) => h.name))],
  get: (headers, name) => {
    const values = headers.getAll(name);
    return values.length <= 1 ? values[0]?.toString('utf8') : values.map((v) => v.toString('utf8'));
  },
};

interface RecordSpan {
  readonly span: Span;
  /** The record span's context: user code runs in it. */
  readonly context: TraceContext;
  /** The context the record's headers carried, when valid. */
  readonly carried: TraceContext | undefined;
  failures: number;
}

/**
 * One invocation's spans: its own, and one per record the runner takes up, kept by record until
 * the record's outcome ends it. A record's span is a child of the context its headers carry (so
 * user code's calls join the producer's trace), linked to the invocation's span; without one, a
 * child of the invocation's span.
 */
export class InvocationTrace {
  readonly #spans = new Map<KafkaRecord<unknown, unknown>, RecordSpan>();
  readonly #context: TraceContext;

  private constructor(
    readonly settings: TracingSettings,
    readonly span: Span,
  ) {
    this.#context = trace.setSpan(context.active(), span);
  }

  /** The invocation's span, or undefined when no SDK is registered (tracing is then off). */
  static start(settings: TracingSettings | undefined, event: DecodedEvent, lambda: Context): InvocationTrace | undefined {
    if (!settings) return undefined;
    const topics = new Set(event.partitions.map((p) => p.topic));
    const span = settings.tracer.startSpan(topics.size === 1 ? `process ${[...topics][0]}` : 'process', {
      kind: SpanKind.CONSUMER,
      attributes: {
        ...MESSAGING,
        'messaging.batch.message_count': event.partitions.reduce((n, p) => n + p.entries.length, 0),
        'faas.invocation_id': lambda.awsRequestId,
        ...(lambda.invokedFunctionArn ? { 'cloud.resource_id': lambda.invokedFunctionArn } : {}),
      },
    });
    if (trace.isSpanContextValid(span.spanContext())) return new InvocationTrace(settings, span);
    span.end();
    return undefined;
  }

  /** Runs `fn` in the invocation span's context (a whole-batch call). */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    return context.with(this.#context, fn, undefined, ...args);
  }

  /** Starts `record`'s span, for a record that does not run (parked, dead-lettered unrun): its outcome ends it. */
  startRecord(record: KafkaRecord<unknown, unknown>): void {
    this.#start(record);
  }

  /** A span for a record that does not run, ended at once with its outcome. */
  notRun(record: KafkaRecord<unknown, unknown>, outcome: RecordOutcome): void {
    this.#start(record);
    this.end(record, outcome);
  }

  /**
   * The invocation's user call, traced: each attempt runs in its record's span (started by the first),
   * and an attempt that succeeds ends it `processed`. The runner's loop is the same with tracing on or off.
   */
  traced(call: RecordCall): RecordCall {
    return (record, lambda) => {
      const result = context.with(this.#spanOf(record).context, call, undefined, record, lambda);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then !== 'function') {
        this.end(record, 'processed');
        return result;
      }
      return Promise.resolve(result).then((value) => {
        this.end(record, 'processed');
        return value;
      });
    };
  }

  /** `record`'s span, started now if it has none (its first attempt, or a failure before any: a value that does not deserialize). */
  #spanOf(record: KafkaRecord<unknown, unknown>): RecordSpan {
    return this.#spans.get(record) ?? this.#start(record);
  }

  #start(record: KafkaRecord<unknown, unknown>): RecordSpan {
    const carried = carriedContext(record);
    const attributes = this.#attributesOf(record);
    const span = this.settings.tracer.startSpan(
      `process ${record.topic}`,
      { kind: SpanKind.CONSUMER, attributes, ...(carried ? { links: [{ context: this.span.spanContext() }] } : {}) },
      carried ?? this.#context,
    );
    const recordSpan: RecordSpan = { span, context: trace.setSpan(carried ?? this.#context, span), carried, failures: 0 };
    this.#spans.set(record, recordSpan);
    return recordSpan;
  }

  /** An attempt of `record` failed: an `attempt failed` event, with the error's type only (its message may quote the record). */
  attemptFailed(record: KafkaRecord<unknown, unknown>, error: unknown): void {
    const s = this.#spanOf(record);
    s.span.addEvent('attempt failed', { attempt: ++s.failures, 'error.type': describeError(error).type });
  }

  /** Ends `record`'s span with its outcome (a no-op when it has none, or it ended). */
  end(record: KafkaRecord<unknown, unknown>, outcome: RecordOutcome, error?: unknown): void {
    const s = this.#spans.get(record);
    if (!s) return;
    this.#spans.delete(record);
    s.span.setAttributes({
      'kafka_consumers.outcome': outcome,
      'kafka_consumers.attempts': outcome === 'processed' ? s.failures + 1 : s.failures,
    });
    if (outcome === 'dead-lettered' || outcome === 'blocked') {
      const type = describeError(error).type;
      s.span.setAttribute('error.type', type);
      s.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    s.span.end();
  }

  /** What a dead letter of `record` keeps: the context its headers carried, and its span's. */
  deadLetterTrace(record: KafkaRecord<unknown, unknown>): DeadLetterTrace | undefined {
    const s = this.#spans.get(record);
    if (!s) return undefined;
    const recordCarrier = s.carried && carrierOf(s.carried);
    const failure = carrierOf(s.context);
    return { ...(recordCarrier ? { record: recordCarrier } : {}), ...(failure ? { failure } : {}) };
  }

  /** Ends the invocation's span (and, after an unexpected error, the records' left open: redelivered with the batch). */
  finish(failed: boolean, error: unknown): void {
    for (const record of [...this.#spans.keys()]) this.end(record, 'redelivered');
    if (failed) {
      this.span.setAttribute('error.type', describeError(error).type);
      this.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    this.span.end();
  }

  #attributesOf(record: KafkaRecord<unknown, unknown>): Attributes {
    const { consumerGroupId, recordKeys } = this.settings;
    const attributes: Attributes = {
      ...MESSAGING,
      'messaging.destination.name': record.topic,
      'messaging.destination.partition.id': String(record.partition),
      'messaging.kafka.offset': record.offset,
    };
    if (consumerGroupId) attributes['messaging.consumer.group.name'] = mappingConsumerGroupId(consumerGroupId, record.topic);
    if (record.encodedValue === null) attributes['messaging.kafka.message.tombstone'] = true;
    else attributes['messaging.message.body.size'] = base64ByteLength(record.encodedValue);
    if (recordKeys && record.encodedKey !== null) {
      try {
        attributes['messaging.kafka.message.key'] = record.rawKey!.toString('utf8');
      } catch {
        // A key that is not base64 fails its record where it is read, not here.
      }
    }
    return attributes;
  }
}

/** The context in the record's headers (global propagator), when valid; anything wrong with them counts as none. */
function carriedContext(record: KafkaRecord<unknown, unknown>): TraceContext | undefined {
  try {
    const extracted = propagation.extract(ROOT_CONTEXT, record.headers, HEADERS);
    const carried = trace.getSpanContext(extracted);
    return carried && trace.isSpanContextValid(carried) ? extracted : undefined;
  } catch {
    return undefined;
  }
}

/** A context as the global propagator writes it, within what a dead letter may hold; undefined when it writes nothing. */
function carrierOf(traceContext: TraceContext): TraceCarrier | undefined {
  const fields: Record<string, string> = {};
  try {
    propagation.inject(traceContext, fields);
  } catch {
    return undefined;
  }
  const kept = Object.entries(fields)
    .filter(([, value]) => typeof value === 'string' && value.length <= TRACE_FIELD_LENGTH)
    .slice(0, TRACE_CARRIER_FIELDS);
  return kept.length > 0 ? Object.fromEntries(kept) : undefined;
}
