// The OpenTelemetry SDK as a user registers it (ADOT's layer does the same), with the in-memory
// exporter: what a test checks spans and links with. `off()` unregisters it all again.
import { context, propagation, trace, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

export function registerTracingSdk(propagator: TextMapPropagator = new W3CTraceContextPropagator()) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(propagator);
  return {
    spans: (): ReadableSpan[] => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    off: () => {
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** A span's context as W3C's `traceparent` writes it. */
export const traceparentOf = (span: Pick<ReadableSpan, 'spanContext'>) => {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return `00-${traceId}-${spanId}-0${traceFlags.toString(16)}`;
};
