// Tracing's weight in the example consumer's bundle: OpenTelemetry's API (its ESM build, which
// esbuild tree-shakes to the trace, context and propagation APIs) and our tracing.ts, within the
// project's 100 KB bundle target (bench/results.ts, cold-start-bytes).
import { describe, expect, it } from 'vitest';
import { bytesOf, exampleConsumer } from '../../support/example-bundle.js';

const BUNDLE_TARGET_BYTES = 100 * 1024;
const TRACING_SOURCES = /(^src\/runtime\/tracing\.ts$|node_modules\/@opentelemetry\/api\/)/;
/** What tracing adds: 12.7 KB measured (2026-12-08: the API 9.6 KB, tracing.ts 3.1 KB), bundle 87.5 KB before, 101.0 KB after. */
const TRACING_BYTES_BUDGET = 14_000;

describe("tracing in the example consumer's bundle", () => {
  it('adds little to it, and the bundle stays within the 100 KB target', async () => {
    const { bytes, inputs } = await exampleConsumer();
    const tracingBytes = bytesOf(inputs, TRACING_SOURCES);
    expect(tracingBytes).toBeGreaterThan(0);
    expect(tracingBytes).toBeLessThan(TRACING_BYTES_BUDGET);
    expect(bytes).toBeLessThanOrEqual(BUNDLE_TARGET_BYTES);
  });
});
