import { describe, expect, it } from 'vitest';
import { buildKafkaEvent, encodedSize, type BrokerRecord } from '../../../../local/esm/lambda-event.js';
import { lambdaContext } from '../../../../local/esm/lambda-context.js';

describe('the Lambda event the emulator builds', () => {
  it('gives a record without headers an empty list, and names the default bootstrap servers', () => {
    const event = buildKafkaEvent([{ topic: 'orders', partition: 0, offset: 1, value: 'v' }]);
    expect(event.records['orders-0']![0]!.headers).toEqual([]);
    expect(event.bootstrapServers).toBe('127.0.0.1:9092');
    expect(buildKafkaEvent([], { bootstrapServers: 'b-1:9098' }).bootstrapServers).toBe('b-1:9098');
  });

  // Lambda developer guide, "Using Lambda with Amazon MSK" (example event): records grouped under "topic-partition" keys.
  it('groups records by topic and partition, keeping their order, however they interleave', () => {
    const at = (topic: string, partition: number, offset: number): BrokerRecord => ({ topic, partition, offset });
    const event = buildKafkaEvent([at('a', 0, 1), at('a', 0, 2), at('a', 1, 7), at('b', 1, 3), at('a', 0, 3), at('b', 1, 4)]);
    const offsets = Object.fromEntries(
      Object.entries(event.records).map(([id, records]) => [id, records.map((r) => `${r.topic}-${r.partition}@${r.offset}`)]),
    );
    expect(offsets).toEqual({ 'a-0': ['a-0@1', 'a-0@2', 'a-0@3'], 'a-1': ['a-1@7'], 'b-1': ['b-1@3', 'b-1@4'] });
  });
});

// The emulator sums these sizes to keep each invocation under Lambda's 6 MB payload (docs/aws-contracts.md §1):
// an estimate below the real size could send an event Lambda would refuse.
describe('the size a record adds to the event', () => {
  const added = (r: BrokerRecord) =>
    JSON.stringify(buildKafkaEvent([r, r]).records).length - JSON.stringify(buildKafkaEvent([r]).records).length;
  const base = { topic: 'orders', partition: 12, offset: 123_456, timestamp: 1_700_000_000_000 };

  it.each([
    ['no key or value', base, 0],
    ['a string key and value', { ...base, key: 'k', value: '{"a":1}' }, 0],
    ['a binary value (a length of 1 mod 3)', { ...base, value: Buffer.alloc(1_000, 7) }, 0],
    ['a binary key and value (lengths of 2 mod 3)', { ...base, key: Buffer.alloc(2), value: Buffer.alloc(1_001, 7) }, 0],
    [
      'headers',
      {
        ...base,
        headers: [
          ['a', Buffer.from([1, 2, 255])],
          ['trace-id', 'xyz'],
        ] as const,
      },
      6,
    ],
  ])('is an upper bound, and a close one, for a record with %s', (_, record, headerBytes) => {
    const size = encodedSize(record);
    expect(size).toBeGreaterThanOrEqual(added(record));
    expect(size - added(record)).toBeLessThanOrEqual(8 + 3 * headerBytes);
  });
});

// Lambda developer guide, "Using the Lambda context object to retrieve Node.js function information":
// functionName, functionVersion, invokedFunctionArn, memoryLimitInMB, awsRequestId, logGroupName,
// logStreamName, getRemainingTimeInMillis() and callbackWaitsForEmptyEventLoop.
describe('the Lambda context the emulator passes', () => {
  it('carries the fields Lambda sets, for the function named', () => {
    const context = lambdaContext(5_000, 'replay');
    expect(context).toMatchObject({
      callbackWaitsForEmptyEventLoop: false,
      functionName: 'replay',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:replay',
      memoryLimitInMB: '1024',
      logGroupName: '/aws/lambda/replay',
      logStreamName: 'local',
    });
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(5_000);
  });
});
