// OpenTelemetry's SDK as a function registers it (the ADOT layer does the same before the handler
// loads): a tracer provider exporting to memory, the async-hooks context manager, W3C trace context.
import { context, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export interface RegisteredTracing {
  /** The spans ended so far, in the order they ended. */
  spans(): ReadableSpan[];
  /** Forgets the spans ended so far. */
  reset(): void;
  /** Unregisters the SDK (the API is a no-op again). */
  unregister(): void;
}

/** `propagator`: W3C trace context unless a test needs another (baggage, one that throws). */
export function registerTracing(propagator: TextMapPropagator = new W3CTraceContextPropagator()): RegisteredTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider is registered already: unregister it after each test');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator);
  return {
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    unregister() {
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** A W3C `traceparent` header value: version 00, sampled. */
export const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;

/** A (sampled) span's context as W3C's `traceparent` writes it. */
export const traceparentOf = (span: Pick<ReadableSpan, 'spanContext'>) =>
  traceparent(span.spanContext().traceId, span.spanContext().spanId);
