// The replay's tracing (OpenTelemetry, public API only): a span for the run, and one PRODUCER span
// per copy put back, linked to the dead letter's record and failure contexts (envelope `trace`).
// The copy carries its send span's context in its headers, so the replayed record's processing is
// one click from the original. With no SDK registered, nothing here runs per record: the replay
// starts no tracing and its copies keep their headers as they were.
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { describeError } from '../contract/errors.js';
import { TRACER_NAME } from '../contract/index.js';
import type { DeadLetterEnvelope, ReplayableRecord, TraceCarrier } from '../runtime/envelope.js';

/** A record to replay, with the trace contexts its dead letter kept (none from an S3 on-failure object). */
export type TracedRecord = ReplayableRecord & Pick<DeadLetterEnvelope, 'trace'>;

/**
 * What a copy's headers become: the propagator's fields dropped (a stale `tracestate` must not
 * ride with a new `traceparent`), then `write` appended (the send span's context, as injected).
 */
export interface TraceHeaders {
  readonly drop: ReadonlySet<string>;
  readonly write: ReadonlyArray<readonly [name: string, value: string]>;
}

/** Which of a dead letter's contexts a link points at (attribute of the link). */
const LINK_ATTRIBUTE = 'kafka_consumers.link';
const UNCHANGED: TraceHeaders = { drop: new Set(), write: [] };

/** Reads a propagator's fields from an envelope's header list (values base64): the first of a repeated name first. */
const envelopeHeaders: TextMapGetter<TracedRecord['record']['headers']> = {
  keys: (headers) => headers.map((h) => h.name),
  get: (headers, name) => {
    const values = headers.filter((h) => h.name === name).map((h) => Buffer.from(h.value, 'base64').toString('utf8'));
    return values.length > 1 ? values : values[0];
  },
};

/** Tracing for one replay run. Made only when an SDK is registered ({@link startReplayTracing}). */
export class ReplayTracing {
  #unreadable = 0;
  readonly #tracer = trace.getTracer(TRACER_NAME);
  readonly #run: Span;
  readonly #parent: Context;
  readonly #fields: ReadonlySet<string>;

  constructor(run: Span) {
    this.#run = run;
    this.#parent = trace.setSpan(context.active(), run);
    this.#fields = new Set(propagation.fields());
  }

  /** The spans of one produce call's copies, to `topic` (and `partition`, when the replay picks it). */
  sends(topic: string, partition?: number): CopySends {
    return new CopySends(this, topic, partition);
  }

  /**
   * Starts a copy's send span, linked to its dead letter's contexts, and gives the headers that
   * carry it. The context injected is the one the record's own headers give (its baggage, say)
   * with the send span in it.
   */
  start(record: TracedRecord, topic: string, partition: number | undefined): { span: Span; headers: TraceHeaders } {
    const attributes: Attributes = {
      'messaging.system': 'kafka',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': topic,
    };
    if (partition !== undefined) attributes['messaging.destination.partition.id'] = String(partition);
    const links: Link[] = [];
    this.#link(links, 'record', record.trace?.record);
    this.#link(links, 'failure', record.trace?.failure);
    const span = this.#tracer.startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes, links }, this.#parent);
    const carrier: Record<string, string> = {};
    try {
      propagation.inject(trace.setSpan(this.#extract(record.record.headers, envelopeHeaders), span), carrier);
    } catch {
      return { span, headers: UNCHANGED }; // a propagator that cannot write: the copy goes as it would untraced
    }
    const write = Object.entries(carrier);
    return { span, headers: { drop: new Set([...this.#fields, ...Object.keys(carrier)]), write } };
  }

  /** Carriers present in an envelope that gave no valid context (never quoted: anyone with SendMessage wrote them). */
  get unreadableContexts(): number {
    return this.#unreadable;
  }

  /** Runs `fn` with the run's span active: what the run calls (SQS, S3, Kafka), if instrumented, joins it. */
  within<R>(fn: () => R): R {
    return context.with(this.#parent, fn);
  }

  /** Ends the run's span with what the run did, or the error it failed with, and has the SDK export its spans. */
  async end(summary: Readonly<Record<'received' | 'replayed' | 'skipped' | 'failed', number>> | undefined, error: unknown) {
    if (summary)
      for (const name of ['received', 'replayed', 'skipped', 'failed'] as const)
        this.#run.setAttribute(`kafka_consumers.replay.${name}`, summary[name]);
    else failed(this.#run, error);
    this.#run.setAttribute('kafka_consumers.replay.unreadable_trace_contexts', this.#unreadable);
    this.#run.end();
    await flushed();
  }

  #link(links: Link[], name: 'record' | 'failure', carrier: TraceCarrier | undefined) {
    if (carrier === undefined) return;
    const linked = trace.getSpanContext(this.#extract(carrier));
    if (linked && trace.isSpanContextValid(linked)) links.push({ context: linked, attributes: { [LINK_ATTRIBUTE]: name } });
    else this.#unreadable++;
  }

  /** A propagator is user code: one that throws on a carrier drops that carrier's context, never the copy. */
  #extract<C>(carrier: C, getter?: TextMapGetter<C>): Context {
    try {
      return propagation.extract(ROOT_CONTEXT, carrier, getter);
    } catch {
      return ROOT_CONTEXT;
    }
  }
}

/** The send spans of one produce call: started as its copies are made, ended when Kafka answers. */
export class CopySends {
  readonly #spans: Span[] = [];
  constructor(
    private readonly tracing: ReplayTracing,
    private readonly topic: string,
    private readonly partition: number | undefined,
  ) {}

  /** The headers a copy of `record` carries its send span in. */
  headersFor(record: TracedRecord): TraceHeaders {
    const { span, headers } = this.tracing.start(record, this.topic, this.partition);
    this.#spans.push(span);
    return headers;
  }

  /** Ends the spans when the produce settles: status ERROR and `error.type` if it failed. */
  async ended<R>(produced: Promise<R>): Promise<R> {
    try {
      return await produced;
    } catch (error) {
      for (const span of this.#spans) failed(span, error);
      throw error;
    } finally {
      for (const span of this.#spans) span.end();
    }
  }
}

/**
 * Has the registered SDK export what it holds before the function returns: a frozen sandbox
 * exports nothing, and ADOT's layer, which flushes after each invocation by wrapping the handler,
 * cannot wrap this esbuild bundle's read-only export. The API has no flush: the SDK's provider
 * (behind the API's proxy, of whichever API copy registered it) has `forceFlush`, waited for at
 * most FLUSH_TIMEOUT_MS. An export that fails is the SDK's to report; it never fails the replay.
 */
async function flushed() {
  const registered = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const provider = (typeof registered.getDelegate === 'function' ? registered.getDelegate() : registered) as {
    forceFlush?: () => Promise<void>;
  };
  if (typeof provider.forceFlush !== 'function') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    // Bounded within the time the replay keeps back (5 s): a hung collector must not time the invocation out.
    await Promise.race([provider.forceFlush(), new Promise((resolve) => (timer = setTimeout(resolve, FLUSH_TIMEOUT_MS)))]);
  } catch {
    // the SDK's exporter logs its own failures
  } finally {
    clearTimeout(timer);
  }
}

/** The longest the replay waits for the SDK's export before it returns. */
const FLUSH_TIMEOUT_MS = 2_000;

function failed(span: Span, error: unknown) {
  const type = describeError(error).type; // never the message: it may quote record contents
  span.setAttribute('error.type', type);
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/**
 * Starts the run's span. With no SDK registered the API's tracer gives a span whose context is not
 * valid: then tracing is off for the run (undefined), and the replay does no per-record tracing work.
 */
export function startReplayTracing(attributes: Attributes): ReplayTracing | undefined {
  const run = trace.getTracer(TRACER_NAME).startSpan('replay dead letters', { kind: SpanKind.INTERNAL, attributes });
  return trace.isSpanContextValid(run.spanContext()) ? new ReplayTracing(run) : undefined;
}
