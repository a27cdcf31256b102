// AWS errors as an operator can act on them: one sentence, what to check, no stack trace.
import { describeError } from '../contract/errors.js';
import { CliError } from './exit-codes.js';

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
]);
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'ThrottledException']);

/**
 * `doing` says what the call was for ("invoking the replay function my-fn"), `permission` the
 * IAM action it needs. An error that is already a CliError passes through.
 */
export function explainAwsError(error: unknown, doing: string, permission: string): CliError {
  if (error instanceof CliError) return error;
  const { type, message } = describeError(error);
  const attempts = (error as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts;
  if (ACCESS_DENIED.has(type))
    return new CliError(`no permission for ${doing} (${type}: ${message}). The credentials in use need ${permission}.`);
  if (THROTTLED.has(type)) {
    return new CliError(
      `AWS throttled ${doing}${attempts ? ` ${attempts} times in a row, with backoff between tries` : ''} (${type}: ${message}). Try again later, or with fewer invocations at once elsewhere.`,
    );
  }
  if (type === 'CredentialsProviderError')
    return new CliError(
      `no AWS credentials for ${doing}: ${message} Set AWS_PROFILE, or the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY pair, or run aws sso login.`,
    );
  if (type === 'ResourceNotFoundException')
    return new CliError(`${doing}: not found (${message}). Check the name and the region (--region, AWS_REGION).`);
  return new CliError(`${doing} failed: ${type}: ${message}`);
}
