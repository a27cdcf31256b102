import { describe, expect, it } from 'vitest';
import { ItemIds, MAX_KEY_BYTES, originalOf, userKeyOf } from '../../../../src/runtime/idempotency/record-identity.js';
import { IdempotencyKeyError } from '../../../../src/runtime/errors.js';
import { decodeEvent, recordAt } from '../../../../src/runtime/event.js';
import { buildKafkaEvent, type BrokerRecord } from '../../../support/kafka-event.js';

const entryOf = (headers: BrokerRecord['headers']) =>
  decodeEvent(buildKafkaEvent([{ topic: 'copies', partition: 1, offset: 9, value: 'secret', headers }])).partitions[0]!;

describe('record identity', () => {
  it("names items by the mapping's group (<consumerGroupId>-<topic>), topic, partition and offset", () => {
    const ids = new ItemIds('orders-app');
    expect(ids.partition('orders', 3)).toBe('p|orders-app-orders|orders|3');
    expect(ids.record({ topic: 'orders', partition: 3, offset: 7 })).toBe('r|orders-app-orders|orders|3|7');
    expect(ids.userKey('order-42')).toBe('u|orders-app|order-42');
    expect(new ItemIds(undefined).partition('orders', 3)).toBe('p|*|orders|3');
    expect(Buffer.byteLength(ids.userKey('x'.repeat(ids.maxUserKeyBytes)))).toBe(MAX_KEY_BYTES);
  });

  it("knows a replayed copy by its original's coordinates, the topic defaulting to the copy's", () => {
    const p = entryOf([
      ['x-dlq-original-topic', 'orders'],
      ['x-dlq-original-partition', '2'],
      ['x-dlq-original-offset', '5'],
    ]);
    expect(originalOf(p.entries[0]!, p.topic)).toEqual({ topic: 'orders', partition: 2, offset: 5 });
    const older = entryOf([
      ['x-dlq-original-partition', '2'],
      ['x-dlq-original-offset', '5'],
    ]);
    expect(originalOf(older.entries[0]!, older.topic)).toEqual({ topic: 'copies', partition: 2, offset: 5 });
  });

  it('knows a record whose replay headers are missing or not numbers by its own coordinates', () => {
    for (const headers of [
      [],
      [['x-dlq-original-offset', '5']],
      [
        ['x-dlq-original-offset', '5x'],
        ['x-dlq-original-partition', '2'],
      ],
    ] as const) {
      const p = entryOf(headers as unknown as BrokerRecord['headers']);
      expect(originalOf(p.entries[0]!, p.topic)).toBeUndefined();
    }
  });

  it('says what is wrong with a business key and how to fix it, without quoting the record', () => {
    const p = entryOf([]);
    const record = recordAt(p, p.entries[0]!);
    const cases: Array<[(r: unknown) => unknown, RegExp]> = [
      [() => undefined, /returned undefined for copies-1@9/],
      [() => 42, /returned number/],
      [() => '', /returned an empty string/],
      [() => 'é'.repeat(60), /returned a 120-byte key .*at most 100 UTF-8 bytes.*hash a longer id/],
      [
        () => {
          throw new Error('secret');
        },
        /threw for copies-1@9/,
      ],
    ];
    for (const [key, message] of cases) {
      const error = userKeyOf(record, key as (r: unknown) => string, 100);
      expect(error).toBeInstanceOf(IdempotencyKeyError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('secret');
    }
    expect(userKeyOf(record, () => 'order-42', 100)).toBe('order-42');
  });
});
