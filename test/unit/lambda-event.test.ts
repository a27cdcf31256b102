import { describe, expect, it } from 'vitest';
import { buildKafkaEvent } from '../../local/esm/lambda-event';
import { lambdaContext } from '../../local/esm/lambda-context';

describe('the Lambda event the emulator builds', () => {
  it('gives a record without headers an empty list, and names the default bootstrap servers', () => {
    const event = buildKafkaEvent([{ topic: 'orders', partition: 0, offset: 1, value: 'v' }]);
    expect(event.records['orders-0']![0]!.headers).toEqual([]);
    expect(event.bootstrapServers).toBe('127.0.0.1:9092');
    expect(buildKafkaEvent([], { bootstrapServers: 'b-1:9098' }).bootstrapServers).toBe('b-1:9098');
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
