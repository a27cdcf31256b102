import type { Kafka } from 'kafkajs';
import type { Context } from 'aws-lambda';
import type { MappingSettings } from '../../src/mapping/mapping-settings.js';
import type { OnFailureDestination } from './on-failure-destinations.js';

// What an EventSourceMappingEmulator is given: the function and the mapping it emulates.

/**
 * The function. `signal` is aborted when the invocation times out: a handler that runs in a
 * sandbox ({@link SandboxPool}) stops it then, as Lambda stops a timed-out sandbox.
 */
export type Handler = (event: unknown, context: Context, signal: AbortSignal) => Promise<unknown>;

export interface EmulatorOptions {
  readonly kafka: Kafka;
  readonly topic: string;
  /** The mapping's settings, as the CDK app reads them. */
  readonly settings: MappingSettings;
  readonly handler: Handler;
  /** @default 60 s */
  readonly functionTimeoutMs?: number;
  /** @default 'consumer' */
  readonly functionName?: string;
  readonly bootstrapServers: string;
  /** The cluster's ARN in events and on-failure records. @default a demo MSK cluster ARN */
  readonly eventSourceArn?: string;
  /**
   * Where discarded batches go, in the shape Lambda gives that kind of destination
   * (`sqsOnFailureDestination`, `s3OnFailureDestination`, `kafkaOnFailureDestination` in
   * ./on-failure-destinations). A batch the destination could not take stays uncommitted, and
   * the emulator stops consuming ({@link EventSourceMappingEmulator.error} says why).
   * @default none: discarded batches are dropped, as by a mapping without a destination
   */
  readonly onFailure?: OnFailureDestination;
  /**
   * The mapping's `Enabled` at start: a disabled mapping does not poll until enabled
   * ({@link EventSourceMappingEmulator.setEnabled}, or UpdateEventSourceMapping on the local Lambda API).
   * @default true
   */
  readonly enabled?: boolean;
  /** Delay between retries of a failed invocation. @default 500 ms */
  readonly retryDelayMs?: number;
  /**
   * The consumer's group session timeout. A member that left is replaced only after a
   * rebalance, which the embedded broker holds open for this long less a second.
   * @default 30 s (kafkajs)
   */
  readonly sessionTimeoutMs?: number;
}
