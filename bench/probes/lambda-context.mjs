// The context the probes hand their handler: what the Lambda runtime would give.
export const context = {
  functionName: 'consumer',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:consumer',
  memoryLimitInMB: '1024',
  awsRequestId: 'probe',
  logGroupName: '/aws/lambda/consumer',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 60_000,
};
