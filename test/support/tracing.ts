// OpenTelemetry's SDK as a function registers it (the ADOT layer does the same before the handler
// loads): a tracer provider exporting to memory, the async-hooks context manager, W3C trace context.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export interface RegisteredTracing {
  /** The spans ended so far, in the order they ended. */
  spans(): ReadableSpan[];
  /** Unregisters the SDK (the API is a no-op again). */
  unregister(): void;
}

export function registerTracing(): RegisteredTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider is registered already: unregister it after each test');
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    spans: () => exporter.getFinishedSpans(),
    unregister() {
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** A W3C `traceparent` header value: version 00, sampled. */
export const traceparent = (traceId: string, spanId: string) => `00-${traceId}-${spanId}-01`;
