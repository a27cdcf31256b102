import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { LambdaClient } from '@aws-sdk/client-lambda';
// docs/aws-contracts.md §10: Invoke answers a function error with FunctionError and the error as
// its payload (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html); DescribeStacks of a
// missing stack fails with a ValidationError
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html); the
// SDK retries throttling with backoff (https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
import { Readable } from 'node:stream';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaInvoker, resolveAwsTarget } from '../../../src/cli/aws-target.js';
import { CliError } from '../../../src/cli/exit-codes.js';

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const awsError = (name: string, message: string, attempts = 1) => Object.assign(new Error(message), { name, $metadata: { attempts } });
const outputs = (o: Record<string, string>) =>
  vi.spyOn(CloudFormationClient.prototype, 'send').mockResolvedValue({
    Stacks: [{ Outputs: Object.entries(o).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
  } as never);
const invokeAnswers = (out: Record<string, unknown> | Error) =>
  vi.spyOn(LambdaClient.prototype, 'send').mockImplementation((async () => {
    if (out instanceof Error) throw out;
    return out;
  }) as never);
const payloadOf = (answer: unknown) => new TextEncoder().encode(JSON.stringify(answer));

describe('the replay function and queue of a stack', () => {
  it('are its outputs ReplayFunctionName and DeadLetterQueueUrl (app/kafka-consumers-stack.ts)', async () => {
    outputs({ ReplayFunctionName: 'replay-fn', DeadLetterQueueUrl: 'https://sqs/dlq', OnFailureQueueUrl: 'https://sqs/other' });
    expect(await resolveAwsTarget({ stack: 'Payments' })).toEqual({ functionName: 'replay-fn', queueUrl: 'https://sqs/dlq' });
  });

  it("are found in a stack of the user's own, whose output keys carry a construct path and hash", async () => {
    outputs({ PaymentsReplayReplayFunctionName3F2A1B: 'replay-fn', PaymentsDeadLetterQueueUrlC0FFEE: 'https://sqs/dlq' });
    expect(await resolveAwsTarget({ stack: 'Payments' })).toEqual({ functionName: 'replay-fn', queueUrl: 'https://sqs/dlq' });
  });

  it('prefer the output named exactly so to others whose keys contain the name', async () => {
    outputs({ ReplayFunctionName: 'replay-fn', LegacyReplayFunctionName1A2B: 'old-fn', DeadLetterQueueUrl: 'https://sqs/dlq' });
    expect(await resolveAwsTarget({ stack: 'S' })).toEqual({ functionName: 'replay-fn', queueUrl: 'https://sqs/dlq' });
  });

  it('give way to --function and --queue-url', async () => {
    outputs({ ReplayFunctionName: 'replay-fn', DeadLetterQueueUrl: 'https://sqs/dlq' });
    expect(await resolveAwsTarget({ stack: 'S', function: 'mine', queueUrl: 'https://sqs/mine' })).toEqual({
      functionName: 'mine',
      queueUrl: 'https://sqs/mine',
    });
  });

  it('without a queue output, leave the queue unknown (no ETA) rather than fail', async () => {
    outputs({ ReplayFunctionName: 'replay-fn' });
    expect(await resolveAwsTarget({ stack: 'S' })).toEqual({ functionName: 'replay-fn' });
  });

  it.each([
    [{ Other: 'x' }, 'stack S has no output named ReplayFunctionName; its outputs: Other. Give --function NAME instead.'],
    [
      { AReplayFunctionName1: 'a', BReplayFunctionName2: 'b' },
      'stack S has 2 outputs named like ReplayFunctionName (AReplayFunctionName1, BReplayFunctionName2); its outputs: AReplayFunctionName1, BReplayFunctionName2. Give --function NAME instead.',
    ],
  ])('name what is there, and the option to use, when the outputs do not say (%j)', async (o, message) => {
    outputs(o);
    await expect(resolveAwsTarget({ stack: 'S' })).rejects.toThrow(new CliError(message));
  });

  it('say so when the stack does not exist, or may not be read', async () => {
    vi.spyOn(CloudFormationClient.prototype, 'send').mockRejectedValue(
      awsError('ValidationError', 'Stack with id Nope does not exist') as never,
    );
    await expect(resolveAwsTarget({ stack: 'Nope', region: 'eu-west-1' })).rejects.toThrow(
      'there is no stack Nope in region eu-west-1: check the name and the region (--region, AWS_REGION).',
    );
    vi.spyOn(CloudFormationClient.prototype, 'send').mockRejectedValue(
      awsError('AccessDenied', 'User: arn:aws:iam::1:user/op is not authorized to perform: cloudformation:DescribeStacks') as never,
    );
    await expect(resolveAwsTarget({ stack: 'S', region: 'eu-west-1' })).rejects.toThrow(
      /^no permission for reading the outputs of stack S \(AccessDenied: User: .*\)\. The credentials in use need cloudformation:DescribeStacks on it\.$/,
    );
  });
});

describe('invoking the deployed replay function', () => {
  const summary = { received: 3, replayed: 3, skipped: 0, failed: 0, dryRun: false, errors: [] };

  it('sends the payload and answers with the summary', async () => {
    const send = invokeAnswers({ StatusCode: 200, Payload: payloadOf(summary) });
    expect(await lambdaInvoker('replay-fn', 'eu-west-1')({ maxMessages: 5, dryRun: true })).toEqual(summary);
    const input = (send.mock.calls[0]![0] as unknown as { input: { FunctionName: string; Payload: Uint8Array } }).input;
    expect(input.FunctionName).toBe('replay-fn');
    expect(JSON.parse(new TextDecoder().decode(input.Payload))).toEqual({ maxMessages: 5, dryRun: true });
  });

  it('says the function failed, with its error, when the answer is a FunctionError', async () => {
    invokeAnswers({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payloadOf({
        errorType: 'ReplayRequestError',
        errorMessage: 'targetTopic "x" is not one of the topics this stack consumes (orders).',
      }),
    });
    await expect(lambdaInvoker('replay-fn')({ maxMessages: 5 })).rejects.toThrow(
      'the replay function replay-fn failed (Unhandled): ReplayRequestError: targetTopic "x" is not one of the topics this stack consumes (orders).. Its log group has the details.',
    );
  });

  it.each([
    [{ statusCode: 200, body: 'ok' }, 'received, replayed, skipped, failed, dryRun, errors'],
    [null, 'received, replayed, skipped, failed, dryRun, errors'],
    [{ ...summary, replayed: -1, errors: 'none' }, 'replayed, errors'],
  ])('says a function is not a replay function when its answer lacks the summary (%j)', async (answer, lacking) => {
    invokeAnswers({ StatusCode: 200, Payload: payloadOf(answer) });
    await expect(lambdaInvoker('hello-fn')({ maxMessages: 5 })).rejects.toThrow(
      `hello-fn is not a replay function: its answer lacks ${lacking}. Name the DeadLetterReplay's function (the stack output ReplayFunctionName).`,
    );
  });

  it('lets the SDK retry throttling with backoff, 8 tries, then says it was throttled', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.useFakeTimers({ now: 0 });
    // Lambda's answer at the HTTP layer, under the SDK's retry middleware: 429 TooManyRequestsException.
    const tries: number[] = [];
    vi.spyOn(NodeHttpHandler.prototype, 'handle').mockImplementation(async () => {
      tries.push(Date.now());
      const body = Readable.from([
        Buffer.from('{"message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"}'),
      ]);
      return {
        response: {
          statusCode: 429,
          headers: { 'x-amzn-errortype': 'TooManyRequestsException', 'content-type': 'application/json' },
          body,
        },
      } as never;
    });
    let error: unknown;
    const invocation = lambdaInvoker('replay-fn', 'eu-west-1')({ maxMessages: 5 }).catch((e: unknown) => (error = e));
    for (let s = 0; s < 600 && error === undefined; s++) await vi.advanceTimersByTimeAsync(1_000);
    await invocation;
    expect(tries).toHaveLength(8);
    expect(tries.at(-1)! - tries[0]!).toBeGreaterThan(0); // waited between tries
    expect(error).toEqual(
      new CliError(
        'AWS throttled invoking the replay function replay-fn 8 times in a row, with backoff between tries (TooManyRequestsException: Rate Exceeded.). Try again later, or with fewer invocations at once elsewhere.',
      ),
    );
  });

  it('names the missing permission, and a function that is not there', async () => {
    invokeAnswers(awsError('AccessDeniedException', 'not authorized to perform: lambda:InvokeFunction'));
    await expect(lambdaInvoker('replay-fn')({ maxMessages: 5 })).rejects.toThrow(
      'no permission for invoking the replay function replay-fn (AccessDeniedException: not authorized to perform: lambda:InvokeFunction). The credentials in use need lambda:InvokeFunction on it.',
    );
    invokeAnswers(awsError('ResourceNotFoundException', 'Function not found: arn:aws:lambda:eu-west-1:1:function:nope'));
    await expect(lambdaInvoker('nope')({ maxMessages: 5 })).rejects.toThrow(
      'invoking the replay function nope: not found (Function not found: arn:aws:lambda:eu-west-1:1:function:nope). Check the name and the region (--region, AWS_REGION).',
    );
  });
});
