import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { headersInOrder } from '../../../src/kafka/kafka-headers.js';

const message = (fields: Record<string, unknown>) =>
  ({ key: null, value: null, timestamp: '0', attributes: 0, offset: '0', ...fields }) as unknown as KafkaMessage;

describe('headersInOrder', () => {
  it('gives the patched kafkajs list as it is, repeated names and order kept', () => {
    const orderedHeaders = [
      { key: 'a', value: Buffer.from('1') },
      { key: 'b', value: null },
      { key: 'a', value: Buffer.from('2') },
    ];
    expect(headersInOrder(message({ orderedHeaders, headers: { a: [Buffer.from('1'), Buffer.from('2')] } }))).toBe(orderedHeaders);
  });

  it('gives no headers for an old-format (v0/v1) message, which kafkajs marks with its size', () => {
    expect(headersInOrder(message({ size: 12 }))).toEqual([]);
    expect(headersInOrder(message({ size: 0 }))).toEqual([]);
  });
});
