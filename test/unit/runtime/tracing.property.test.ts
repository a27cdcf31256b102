// Property: whatever a record carries as trace headers (any bytes as traceparent and tracestate,
// repeated, near-valid or not, or a header entry that is not `{name: [bytes]}` at all), tracing never
// throws and never fails the record: it is processed, or, when user code fails it, dead-lettered
// with an envelope the replay reads back (its trace carriers within the envelope's bounds).
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { KafkaBatchProcessor } from '../../../src/runtime/batch-processor.js';
import { parseDeadLetter } from '../../../src/runtime/envelope.js';
import type { KafkaEvent } from '../../../src/runtime/event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { buildKafkaEvent } from '../../support/kafka-event.js';
import { fakeQueue } from '../../support/dead-letter-transport.js';
import { captureOutput } from '../../support/output.js';
import { anyText, bytes, propertyRuns } from '../../support/properties.js';
import { registerTracing, traceparent, type RegisteredTracing } from '../../support/tracing.js';

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
/** A valid traceparent, one with a character changed, or any bytes. */
const traceparentValue = fc.oneof(
  fc.tuple(hex(32), hex(16)).map(([t, s]) => Buffer.from(traceparent(t, s))),
  fc
    .tuple(hex(32), hex(16), fc.nat(54), anyText(1))
    .map(([t, s, at, c]) => Buffer.from(`${traceparent(t, s).slice(0, at)}${c}${traceparent(t, s).slice(at + 1)}`)),
  bytes(80),
);
const traceHeaders = fc.array(
  fc.oneof(
    traceparentValue.map((v) => ['traceparent', v] as [string, Buffer]),
    fc
      .oneof(
        bytes(600),
        anyText(600).map((t) => Buffer.from(t)),
      )
      .map((v) => ['tracestate', v] as [string, Buffer]),
  ),
  { maxLength: 4 },
);
/**
 * Sometimes a header entry Lambda would never send: reading the record's headers then throws (a record
 * holding one that fails is not dead-lettered but fails the invocation, InvalidEventError, as without tracing).
 */
const hostileEntry = fc.option(fc.constantFrom({ traceparent: 'not bytes' }, { tracestate: [1.5] }, null), { nil: undefined });

let tracing: RegisteredTracing;
beforeAll(() => void (tracing = registerTracing()));
afterAll(() => tracing.unregister());
beforeEach(() => void captureOutput());

function eventOf(headers: Array<[string, Buffer]>, hostile: unknown, value: object): KafkaEvent {
  const event = buildKafkaEvent([{ topic: 'orders', partition: 0, offset: 1, value: JSON.stringify(value), headers }]);
  if (hostile !== undefined) (event.records['orders-0']![0]!.headers as unknown[]).push(hostile);
  return event;
}

describe('trace headers (property)', () => {
  it('never fail a record, and a dead letter keeps carriers the replay reads back', async () => {
    await fc.assert(
      fc.asyncProperty(traceHeaders, hostileEntry, fc.boolean(), async (headers, hostile, failing) => {
        const fails = failing && hostile === undefined;
        const queue = fakeQueue();
        const processRecord = vi.fn(() => {
          if (fails) throw new Error('fails');
        });
        const p = new KafkaBatchProcessor({
          processRecord,
          deadLetterQueueUrl: 'http://queue',
          deadLetterTransport: queue.transport,
          retry: { maxAttempts: 1 },
        });
        const response = await p.process(eventOf(headers, hostile, { fails }), lambdaContext());
        expect(response).toEqual({ batchItemFailures: [] });
        expect(processRecord).toHaveBeenCalledTimes(1);
        expect(queue.sent).toHaveLength(fails ? 1 : 0);
        for (const envelope of queue.sent) {
          expect(envelope.trace?.failure?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
          expect(parseDeadLetter(JSON.stringify(envelope))).toEqual(envelope);
        }
      }),
      propertyRuns(),
    );
  });
});
