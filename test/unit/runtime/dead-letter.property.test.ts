// Property: whatever a record holds and whatever user code threw, its dead letter is built
// without throwing, SQS takes its body and attributes (the fake transport refuses what SQS
// refuses, InvalidMessageContents), and the body parses back to the exact envelope: the record's
// bytes and the error's text as they were.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadLetterWriter } from '../../../src/runtime/dead-letter-writer.js';
import { buildEnvelope, parseDeadLetter, type DeadLetterEnvelope } from '../../../src/runtime/envelope.js';
import { describeError } from '../../../src/contract/errors.js';
import { RetryPolicy } from '../../../src/runtime/retry.js';
import { fakeTransport } from '../../support/dead-letter-transport.js';
import { partitionOf } from '../../support/records.js';
import { anyText, bytes, headerName, propertyRuns, thrownValue } from '../../support/properties.js';

const deadLetterCase = fc.record({
  topic: fc.oneof(
    fc.constantFrom('orders', 't'),
    anyText(8).filter((t) => t.length > 0),
  ),
  key: fc.option(bytes(), { nil: null }),
  value: fc.option(bytes(256), { nil: null }),
  headers: fc.array(fc.tuple(headerName, bytes(16)), { maxLength: 5 }),
  error: thrownValue,
  functionName: anyText(16),
});

describe('dead-letter envelope and writer (property)', () => {
  it('writes every dead letter SQS-valid, and it reads back as the exact envelope and record bytes', async () => {
    await fc.assert(
      fc.asyncProperty(deadLetterCase, async (c) => {
        const [record] = partitionOf([{ topic: c.topic, partition: 0, offset: 7, key: c.key, value: c.value, headers: c.headers }]);
        const envelope = buildEnvelope(record!, {
          error: c.error,
          attempts: 3,
          firstFailureAt: 0,
          lastFailureAt: 1,
          source: { functionName: c.functionName, requestId: 'r', eventSource: 'aws:kafka' },
        });
        expect(envelope.error).toEqual(describeError(c.error));
        const { transport, sends } = fakeTransport();
        const writer = new DeadLetterWriter({ queueUrl: 'q', transport, retry: new RetryPolicy({ maxAttempts: 1 }) });
        writer.add(envelope);
        expect(await writer.flush()).toMatchObject({ sent: 1, unsent: [] });
        const body = sends[0]!.entries[0]!.MessageBody;
        const read = parseDeadLetter(body) as DeadLetterEnvelope;
        expect(read).toEqual(JSON.parse(JSON.stringify(envelope)));
        const back = (b64: string | null) => (b64 === null ? null : Buffer.from(b64, 'base64'));
        expect(back(read.record.key)).toEqual(c.key);
        expect(back(read.record.value)).toEqual(c.value);
        expect(read.record.headers.map((h) => [h.name, back(h.value)])).toEqual(c.headers);
      }),
      propertyRuns(),
    );
  });
});
