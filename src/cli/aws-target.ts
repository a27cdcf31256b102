// A deployed replay function: named with --function (and its queue with --queue-url), or read
// from a stack's outputs (--stack). The SDK's own retry strategy backs off on throttling.
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { describeError } from '../contract/errors.js';
import { explainAwsError } from './aws-errors.js';
import { CliError } from './exit-codes.js';
import { replayAnswerOf, type ReplayAnswer, type ReplayPayload } from './replay-answer.js';

/** The outputs DeadLetterReplay's stacks name (app/kafka-consumers-stack.ts); a nested construct's keys end with a hash. */
export const STACK_OUTPUTS = { functionName: 'ReplayFunctionName', queueUrl: 'DeadLetterQueueUrl' } as const;
/** Tries of a throttled (or otherwise retryable) call, with the SDK's exponential backoff between them. */
export const AWS_MAX_ATTEMPTS = 8;

export interface AwsTarget {
  readonly functionName: string;
  readonly queueUrl?: string;
}

export interface AwsTargetOptions {
  readonly stack?: string;
  readonly function?: string;
  readonly queueUrl?: string;
  readonly region?: string;
}

/** The function and queue: explicit options first, then the stack's outputs. */
export async function resolveAwsTarget(options: AwsTargetOptions): Promise<AwsTarget> {
  if (!options.stack) {
    if (!options.function) throw new CliError('which replay function? Give --stack NAME, --function NAME, or --local.', 2);
    return { functionName: options.function, ...(options.queueUrl ? { queueUrl: options.queueUrl } : {}) };
  }
  const outputs = await stackOutputs(options.stack, options.region);
  const functionName = options.function ?? outputNamed(outputs, STACK_OUTPUTS.functionName, options.stack, '--function NAME');
  const queueUrl =
    options.queueUrl ??
    (outputs.some((o) => o.OutputKey?.includes(STACK_OUTPUTS.queueUrl))
      ? outputNamed(outputs, STACK_OUTPUTS.queueUrl, options.stack, '--queue-url URL')
      : undefined);
  return { functionName, ...(queueUrl ? { queueUrl } : {}) };
}

async function stackOutputs(stack: string, region?: string): Promise<Output[]> {
  const client = new CloudFormationClient({ ...(region ? { region } : {}), maxAttempts: AWS_MAX_ATTEMPTS });
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stack }));
    return Stacks[0]?.Outputs ?? [];
  } catch (error) {
    // CloudFormation answers a missing stack with a ValidationError "Stack with id X does not exist".
    if (describeError(error).type === 'ValidationError' && /does not exist/.test(describeError(error).message)) {
      throw new CliError(
        `there is no stack ${stack} in region ${await client.config.region()}: check the name and the region (--region, AWS_REGION).`,
      );
    }
    throw explainAwsError(error, `reading the outputs of stack ${stack}`, 'cloudformation:DescribeStacks on it');
  } finally {
    client.destroy();
  }
}

/** The value of the one output whose key is, or contains, `key`. */
function outputNamed(outputs: Output[], key: string, stack: string, option: string): string {
  const exact = outputs.filter((o) => o.OutputKey === key);
  const found = exact.length ? exact : outputs.filter((o) => o.OutputKey?.includes(key));
  if (found.length === 1 && found[0]!.OutputValue) return found[0]!.OutputValue;
  const keys = outputs.map((o) => o.OutputKey).join(', ') || 'none';
  const problem =
    found.length === 0
      ? `has no output named ${key}`
      : `has ${found.length} outputs named like ${key} (${found.map((o) => o.OutputKey).join(', ')})`;
  throw new CliError(`stack ${stack} ${problem}; its outputs: ${keys}. Give ${option} instead.`);
}

/** Invokes the deployed replay function synchronously (RequestResponse) and checks its answer. */
export function lambdaInvoker(functionName: string, region?: string): (payload: ReplayPayload) => Promise<ReplayAnswer> {
  const client = new LambdaClient({ ...(region ? { region } : {}), maxAttempts: AWS_MAX_ATTEMPTS });
  return async (payload) => {
    let out;
    try {
      out = await client.send(
        new InvokeCommand({ FunctionName: functionName, Payload: new TextEncoder().encode(JSON.stringify(payload)) }),
      );
    } catch (error) {
      throw explainAwsError(error, `invoking the replay function ${functionName}`, 'lambda:InvokeFunction on it');
    }
    const text = new TextDecoder().decode(out.Payload ?? new Uint8Array());
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (out.FunctionError) {
      // Lambda's error payload: {errorType, errorMessage, trace}.
      const { errorType = out.FunctionError, errorMessage = '' } = (answer ?? {}) as { errorType?: string; errorMessage?: string };
      throw new CliError(
        `the replay function ${functionName} failed (${out.FunctionError}): ${errorType}: ${errorMessage}. Its log group has the details.`,
      );
    }
    return replayAnswerOf(answer, functionName);
  };
}
