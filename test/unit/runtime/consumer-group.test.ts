import { describe, expect, it } from 'vitest';
import { MAX_CONSUMER_GROUP_ID_LENGTH, mappingConsumerGroupId } from '../../../src/runtime/consumer-group.js';

// CloudFormation, AWS::Lambda::EventSourceMapping ConsumerGroupId: 1–200 characters, unique among
// all Kafka event sources (test/cdk/deploy-contract/consumer-groups.test.ts cites it).
describe('mappingConsumerGroupId', () => {
  it('is <id>-<topic> up to exactly 200 characters', () => {
    expect(MAX_CONSUMER_GROUP_ID_LENGTH).toBe(200);
    expect(mappingConsumerGroupId('orders-consumer', 'orders')).toBe('orders-consumer-orders');
    const id = 'g'.repeat(200 - '-orders'.length);
    expect(mappingConsumerGroupId(id, 'orders')).toBe(`${id}-orders`);
  });

  it('past 200 characters, cuts the name to 200 ending in a stable hash of the whole', () => {
    const id = 'g'.repeat(201 - '-orders'.length);
    const group = mappingConsumerGroupId(id, 'orders');
    expect(group).toHaveLength(200);
    // Two 32-bit FNV-1a hashes (offset bases 0x811c9dc5 and 0x01000193) of the full name, as hex.
    expect(group).toBe(`${'g'.repeat(200 - 16 - 1)}-${fnv1a(`${id}-orders`, 0x811c9dc5)}${fnv1a(`${id}-orders`, 0x01000193)}`);
    expect(group.slice(-17)).toBe('-6c9b8fd3f05b61fd');
    // Names that differ only past the cut still get different groups.
    expect(mappingConsumerGroupId(id, 'orders-a')).not.toBe(mappingConsumerGroupId(id, 'orders-b'));
  });
});

// The published algorithm (http://www.isthe.com/chongo/tech/comp/fnv/), written out independently.
function fnv1a(text: string, basis: number): string {
  let hash = BigInt(basis);
  for (const byte of Buffer.from(text, 'latin1')) hash = ((hash ^ BigInt(byte)) * 0x01000193n) & 0xffffffffn;
  return hash.toString(16).padStart(8, '0');
}

describe('mappingConsumerGroupId hash', () => {
  it('writes each hash as 8 hex digits, leading zeros included', () => {
    const group = mappingConsumerGroupId('g'.repeat(198), 't28'); // its first hash is 0x0ecc997c
    expect(group).toHaveLength(200);
    expect(group.slice(-17)).toBe('-0ecc997c71a04576');
  });
});
