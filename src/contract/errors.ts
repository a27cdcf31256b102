// The error family's base, which every layer's errors extend, and the one description of a
// thrown value (dead letters, logs, replay reasons): shared by every layer, so it loads nothing.

/**
 * The base of every error this library throws or defines, so callers can catch them as a family
 * (`error instanceof KafkaConsumersError`). Give the underlying error as `{ cause }`.
 */
export class KafkaConsumersError extends Error {
  override name = 'KafkaConsumersError';
}

/** A setting (environment variable or option) is missing or wrong. */
export class ConfigurationError extends KafkaConsumersError {
  override name = 'ConfigurationError';
}

/** What the runtime records of a thrown value: in dead letters, logs and the writer's reports. */
export interface ErrorDescription {
  readonly type: string;
  readonly message: string;
  readonly stack?: string;
}

const TYPE_LIMIT = 256;
const MESSAGE_LIMIT = 8_192;
const STACK_LIMIT = 4_096;

/** A property's value, or undefined when reading it throws (a getter, a Proxy). */
// Stryker disable BlockStatement: an emptied catch block returns undefined as well (equivalent)
function read(value: object, key: 'name' | 'message' | 'stack' | 'constructor'): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}
// Stryker restore BlockStatement

/**
 * Describes anything user code can throw, and never throws itself: an object with no
 * prototype (no `toString`), a `message` getter that throws, an `Error` whose `name` is not
 * a string. A throw here would fail the whole invocation instead of one record.
 */
export function describeError(error: unknown): ErrorDescription {
  try {
    if (error instanceof Error) {
      const name = read(error, 'name');
      const message = read(error, 'message');
      const stack = read(error, 'stack');
      const constructor = read(error, 'constructor');
      const constructorName = typeof constructor === 'function' ? read(constructor, 'name') : undefined;
      return {
        type: ((typeof name === 'string' && name) || (typeof constructorName === 'string' && constructorName) || 'Error').slice(
          0,
          TYPE_LIMIT,
        ),
        message: typeof message === 'string' ? message.slice(0, MESSAGE_LIMIT) : '',
        ...(typeof stack === 'string' && stack ? { stack: stack.slice(0, STACK_LIMIT) } : {}),
      };
    }
    return { type: error === null ? 'null' : typeof error, message: String(error).slice(0, MESSAGE_LIMIT) };
  } catch {
    // String() of a null-prototype object, or a Proxy whose traps throw (null never gets here).
    return { type: typeof error, message: 'a value that cannot be turned into text' };
  }
}
