import { KafkaConsumersError } from '../src/contract/errors.js';

// The local tools' errors (the event source mapping emulator, its sandboxes), in the library's
// family so that a caller catches them as it catches the runtime's.

/**
 * The emulator stopped consuming or was used after it stopped, a sandbox could not run the
 * function, or the function's response breaks Lambda's rules; the message says which.
 */
export class EmulatorError extends KafkaConsumersError {
  override name = 'EmulatorError';
}

/** An invocation ran past the function's timeout; worded as Lambda's log line. */
export class InvocationTimeoutError extends EmulatorError {
  override name = 'InvocationTimeoutError';
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`Task timed out after ${(timeoutMs / 1_000).toFixed(2)} seconds`);
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The chaos run's downstream outage: the service the function writes to refuses connections, for
 * every record, for a few seconds. Coded as Node's own refusal, so that the runtime's default
 * classifier takes it for an outage (src/runtime/outage.ts), not for the record's fault.
 */
export class DownstreamOutageError extends Error {
  override name = 'DownstreamOutageError';
  readonly code = 'ECONNREFUSED';
}
