// The Lambda API calls of the outage breaker, for the consumer (opening) and the resumer
// (re-enabling, forcing) alike: find a function's event source mappings, read and write the
// breaker's state in the mapping's BREAKER_TAG, and set the mapping's Enabled. The client is
// loaded on first use; calls are retried by the runtime's one retry policy.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { EventSourceMappingConfiguration } from '@aws-sdk/client-lambda';
import { BREAKER_TAG } from '../contract/index.js';
import { describeError } from '../contract/errors.js';
import { loadLambda } from '../runtime/aws-clients.js';
import { callWithRetries, transientAwsRetry } from '../runtime/retry.js';
import { decodeBreakerState, encodeBreakerState, type BreakerState, type Transition } from './breaker-state.js';

/** One event source mapping of the function, as the breaker needs it. */
export interface MappingInfo {
  readonly uuid: string;
  /** What TagResource and ListTags take. */
  readonly arn: string;
  readonly topics: readonly string[];
  /** Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting. */
  readonly state: string;
  /** MSK: the cluster's ARN. */
  readonly eventSourceArn?: string;
  /** Self-managed Kafka: the KAFKA_BOOTSTRAP_SERVERS endpoints. */
  readonly bootstrapServers?: readonly string[];
}

/** Disabled, or on its way there: the mapping polls no more (or soon). */
export const isPaused = (mapping: Pick<MappingInfo, 'state'>): boolean => mapping.state === 'Disabled' || mapping.state === 'Disabling';

/** Enabled, or on its way there. */
const isRunning = (mapping: Pick<MappingInfo, 'state'>): boolean => mapping.state === 'Enabled' || mapping.state === 'Enabling';

/** Lambda refuses a change while the mapping is still applying another (Enabling, Disabling, Updating). */
const isChangeInProgress = (error: unknown): boolean => {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'ResourceInUseException' || name === 'ResourceConflictException';
};

const ATTEMPTS = 4;

/** The breaker's view of a function's mappings through the Lambda API; calls give up at `deadline` (epoch ms). */
export class MappingControl {
  readonly #retry = transientAwsRetry(ATTEMPTS, isChangeInProgress);

  constructor(
    private readonly logger: Logger,
    private readonly deadline = Number.POSITIVE_INFINITY,
  ) {}

  /** Every mapping of `functionName` (name or ARN), following NextMarker. */
  async list(functionName: string): Promise<MappingInfo[]> {
    const { sdk, client } = await loadLambda();
    const mappings: MappingInfo[] = [];
    let marker: string | undefined;
    do {
      const command = new sdk.ListEventSourceMappingsCommand({ FunctionName: functionName, ...(marker ? { Marker: marker } : {}) });
      const page = await callWithRetries(() => client.send(command), this.#retry, this.deadline);
      for (const m of page.EventSourceMappings ?? []) {
        const info = mappingInfo(m);
        if (info) mappings.push(info);
        else this.logger.warn('skipping an event source mapping without a UUID or EventSourceMappingArn', { mappingUuid: m.UUID });
      }
      marker = page.NextMarker || undefined;
    } while (marker);
    return mappings;
  }

  /** The breaker's state in the mapping's tag; closed when absent, closed with a warning when unreadable. */
  async readState(mapping: MappingInfo): Promise<BreakerState> {
    const { sdk, client } = await loadLambda();
    const command = new sdk.ListTagsCommand({ Resource: mapping.arn });
    const { Tags } = await callWithRetries(() => client.send(command), this.#retry, this.deadline);
    const { state, unreadable } = decodeBreakerState(Tags?.[BREAKER_TAG]);
    if (unreadable) {
      this.logger.warn(`the ${BREAKER_TAG} tag of this mapping is unreadable (${unreadable}); taking the breaker as closed`, {
        mappingUuid: mapping.uuid,
        topic: mapping.topics[0],
      });
    }
    return state;
  }

  async #writeState(mapping: MappingInfo, state: BreakerState): Promise<void> {
    const { sdk, client } = await loadLambda();
    const command = new sdk.TagResourceCommand({ Resource: mapping.arn, Tags: { [BREAKER_TAG]: encodeBreakerState(state) } });
    await callWithRetries(() => client.send(command), this.#retry, this.deadline);
  }

  /** Sets the mapping's Enabled unless it is already (or on its way) there; returns the mapping's state after. */
  async setEnabled(mapping: MappingInfo, enabled: boolean): Promise<MappingInfo> {
    if (enabled ? isRunning(mapping) : isPaused(mapping)) return mapping;
    const { sdk, client } = await loadLambda();
    const command = new sdk.UpdateEventSourceMappingCommand({ UUID: mapping.uuid, Enabled: enabled });
    try {
      const answer = await callWithRetries(() => client.send(command), this.#retry, this.deadline);
      return { ...mapping, state: answer.State ?? (enabled ? 'Enabling' : 'Disabling') };
    } catch (error) {
      if (isChangeInProgress(error)) {
        this.logger.warn(`mapping is ${mapping.state} and Lambda still refuses Enabled=${enabled} (another change is in progress)`, {
          mappingUuid: mapping.uuid,
          topic: mapping.topics[0],
          errorType: describeError(error).type,
        });
      }
      throw error;
    }
  }

  /**
   * Makes a transition happen: pausing, the tag first, then Enabled=false (a pause without its
   * tag would look like a person's, which the resumer leaves alone); resuming, Enabled=true
   * first, then the tag (a half-open tag on a paused mapping would be left alone too). Then the
   * transition's one log line. Returns the mapping's state after.
   */
  async apply(mapping: MappingInfo, transition: Transition, reason: string, coolDownSeconds: number): Promise<MappingInfo> {
    const { next } = transition;
    const enabled = next.position === 'closed' || next.position === 'half-open';
    let after: MappingInfo;
    if (enabled) {
      after = await this.setEnabled(mapping, true);
      await this.#writeState(mapping, next);
    } else {
      await this.#writeState(mapping, next);
      after = await this.setEnabled(mapping, false);
    }
    this.logger.info(transition.event, {
      topic: mapping.topics[0],
      mappingUuid: mapping.uuid,
      opens: next.opens,
      coolDownSeconds,
      reason,
    });
    return after;
  }
}

function mappingInfo(m: EventSourceMappingConfiguration): MappingInfo | undefined {
  if (!m.UUID || !m.EventSourceMappingArn) return undefined;
  const servers = m.SelfManagedEventSource?.Endpoints?.KAFKA_BOOTSTRAP_SERVERS;
  return {
    uuid: m.UUID,
    arn: m.EventSourceMappingArn,
    topics: m.Topics ?? [],
    state: m.State ?? 'Unknown',
    ...(m.EventSourceArn ? { eventSourceArn: m.EventSourceArn } : {}),
    ...(servers ? { bootstrapServers: servers } : {}),
  };
}
