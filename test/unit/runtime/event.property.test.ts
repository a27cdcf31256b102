// Property: whatever bytes and headers a producer wrote, the runtime's record gives them back
// exactly, however Lambda wrote the header bytes (Java signed, -128..127, or unsigned); and
// whatever a caller passes as an event, decoding it fails with an InvalidEventError or not at all.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../../src/runtime/errors.js';
import { decodeEvent, recordAt } from '../../../src/runtime/event.js';
import { bytes, headerName, propertyRuns } from '../../support/properties.js';

const brokerRecord = fc.record({
  key: fc.option(bytes(), { nil: null }),
  value: fc.option(bytes(), { nil: null }),
  headers: fc.array(fc.tuple(headerName, bytes(16), fc.boolean()), { maxLength: 6 }),
});

describe('event decoder (property)', () => {
  it("gives back every record's key, value and headers byte for byte", () => {
    fc.assert(
      fc.property(fc.array(brokerRecord, { minLength: 1, maxLength: 8 }), (records) => {
        const event = {
          eventSource: 'aws:kafka',
          records: {
            't-0': records.map((r, offset) => ({
              topic: 't',
              partition: 0,
              offset,
              timestamp: 1,
              timestampType: 'CREATE_TIME',
              key: r.key === null ? null : r.key.toString('base64'),
              value: r.value === null ? null : r.value.toString('base64'),
              // As Lambda writes them (Java signed bytes) or as the emulator does (unsigned).
              headers: r.headers.map(([name, value, signed]) => ({ [name]: [...value].map((b) => (signed && b > 127 ? b - 256 : b)) })),
            })),
          },
        };
        const [partition] = decodeEvent(JSON.parse(JSON.stringify(event))).partitions;
        partition!.entries.forEach((entry, i) => {
          const record = recordAt(partition!, entry);
          expect(record.rawKey).toEqual(records[i]!.key);
          expect(record.rawValue).toEqual(records[i]!.value);
          expect(record.headers.all.map((h) => [h.name, h.value])).toEqual(records[i]!.headers.map(([name, value]) => [name, value]));
        });
      }),
      propertyRuns(),
    );
  });

  it('fails on anything else with an InvalidEventError, or not at all', () => {
    const nearlyAnEvent = fc.record(
      {
        eventSource: fc.oneof(fc.constantFrom('aws:kafka', 'SelfManagedKafka'), fc.anything()),
        records: fc.oneof(fc.dictionary(fc.string(), fc.array(fc.anything(), { maxLength: 3 })), fc.anything()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), nearlyAnEvent), (event) => {
        try {
          decodeEvent(event);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidEventError);
        }
      }),
      propertyRuns(),
    );
  });
});
