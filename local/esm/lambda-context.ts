import type { Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

/** The ARN of a local function (the region and account every local ARN uses). */
export function localFunctionArn(functionName: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`;
}

/** A Lambda-like context whose deadline is `timeoutMs` from now (fake timers move it too). */
export function lambdaContext(timeoutMs = 30_000, functionName = 'consumer'): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
