// The consumer opening its breaker: loaded (with the Lambda client and src/breaker's Lambda calls)
// only when an invocation saw an outage, never on the happy path.
import type { Logger } from '@aws-lambda-powertools/logger';
import { describeError } from '../contract/errors.js';
import { onOutage, type BreakerSettings } from '../breaker/breaker-state.js';
import { MappingControl, type MappingInfo } from '../breaker/mapping-control.js';
import type { DecodedEvent } from './event.js';

export interface TripRequest {
  readonly event: DecodedEvent;
  /** The consumer's own name (`context.functionName`): its mappings are the ones listed. */
  readonly functionName: string;
  readonly settings: BreakerSettings;
  readonly reason: string;
  readonly logger: Logger;
  /** Epoch ms by which the Lambda calls give up. */
  readonly deadline: number;
  readonly now: number;
  readonly random: () => number;
}

/** Per topic of the event: whether its mapping's breaker is open now and until when. */
export interface TripOutcome {
  readonly topic: string;
  /** This invocation wrote the opening (false: it was open already, or it failed). */
  readonly opened: boolean;
  readonly failed: boolean;
  /** When the cool-down ends, when known. */
  readonly until?: number;
}

/** A bootstrap server list, comma-separated, as a comparable set. */
const serverSet = (servers: string) =>
  servers
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .sort()
    .join(',');

/** Whether `mapping` is where the event came from: its topic and (MSK) cluster ARN or (self-managed) bootstrap servers. */
function deliveredBy(mapping: MappingInfo, event: DecodedEvent, topic: string): boolean {
  if (!mapping.topics.includes(topic)) return false;
  if (event.eventSourceArn !== undefined) return mapping.eventSourceArn === event.eventSourceArn;
  return (
    mapping.bootstrapServers !== undefined && serverSet(mapping.bootstrapServers.join(',')) === serverSet(event.bootstrapServers ?? '')
  );
}

/**
 * Opens the breaker of each mapping the event came from: closed or half-open → open (the tag,
 * then Enabled=false); already open → makes sure the mapping is disabled. Never throws: a
 * failure is logged and reported per topic (the records are redelivered all the same).
 */
export async function openBreaker(request: TripRequest): Promise<TripOutcome[]> {
  const { event, logger } = request;
  const topics = [...new Set(event.partitions.map((p) => p.topic))];
  const control = new MappingControl(logger, request.deadline);
  let mappings: MappingInfo[];
  try {
    mappings = await control.list(request.functionName);
  } catch (error) {
    logFailure(logger, 'could not list the mappings of this function', error, { topics });
    return topics.map((topic) => ({ topic, opened: false, failed: true }));
  }
  return Promise.all(
    topics.map(async (topic): Promise<TripOutcome> => {
      const mine = mappings.filter((m) => deliveredBy(m, event, topic));
      if (mine.length === 0) {
        logger.error(
          `breaker: no event source mapping of ${request.functionName} reads topic ${topic} from this event's source; nothing to pause`,
          { topic },
        );
        return { topic, opened: false, failed: true };
      }
      const outcomes = await Promise.all(mine.map((mapping) => openOne(control, mapping, request)));
      return {
        topic,
        opened: outcomes.some((o) => o.opened),
        failed: outcomes.some((o) => o.failed),
        ...untilOf(outcomes),
      };
    }),
  );
}

async function openOne(control: MappingControl, mapping: MappingInfo, request: TripRequest): Promise<Omit<TripOutcome, 'topic'>> {
  try {
    const state = await control.readState(mapping);
    const transition = onOutage(state, request.now, request.settings, request.random);
    if (!transition) {
      await control.setEnabled(mapping, false);
      return { opened: false, failed: false, ...(state.until !== undefined ? { until: state.until } : {}) };
    }
    const { since, until } = transition.next;
    await control.apply(mapping, transition, request.reason, Math.round(((until ?? since) - since) / 1000));
    return { opened: true, failed: false, ...(until !== undefined ? { until } : {}) };
  } catch (error) {
    logFailure(request.logger, 'could not open the breaker of this mapping', error, {
      topic: mapping.topics[0],
      mappingUuid: mapping.uuid,
    });
    return { opened: false, failed: true };
  }
}

function untilOf(outcomes: ReadonlyArray<Omit<TripOutcome, 'topic'>>): { until?: number } {
  const known = outcomes.flatMap((o) => (o.until !== undefined ? [o.until] : []));
  return known.length > 0 ? { until: Math.min(...known) } : {};
}

function logFailure(logger: Logger, what: string, error: unknown, fields: Record<string, unknown>): void {
  const { type, message } = describeError(error);
  logger.error(`breaker: ${what}; the records are redelivered, and the next invocation that sees the outage tries again`, {
    ...fields,
    errorType: type,
    errorMessage: message,
  });
}
