// The breaker's resumer Lambda: every minute (EventBridge) it re-enables the consumer's mappings
// whose cool-down is over (half-open) and closes the breakers whose probation passed; a person
// invokes it with {"breaker":"open"|"close"|"status","topic"?} to force a breaker or read them.
// It publishes MappingPaused (0/1) per mapping on every invocation: missing data = not running.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { ConfigurationError, describeError } from '../contract/errors.js';
import { DEFAULT_METRICS_NAMESPACE, ENV } from '../contract/index.js';
import {
  baseCoolDownSeconds,
  breakerSettingsFrom,
  onForce,
  onTick,
  type BreakerPosition,
  type BreakerSettings,
  type BreakerState,
} from './breaker-state.js';
import { BreakerCommandError, BreakerControlError } from './errors.js';
import { isPaused, MappingControl, type MappingInfo } from './mapping-control.js';

const serviceName = process.env[ENV.serviceName] ?? 'kafka-consumer';
const logger = new Logger({ serviceName });
const metrics = new Metrics({ namespace: process.env[ENV.metricsNamespace] ?? DEFAULT_METRICS_NAMESPACE, serviceName });

/** Time kept back before the deadline to answer. */
const SAFETY_MARGIN_MS = 2_000;

/** A scheduled tick, or a person's force command (optionally for one topic's mapping). */
export type ResumerRequest = { readonly command: 'tick' } | { readonly command: 'open' | 'close' | 'status'; readonly topic?: string };

/** What the resumer saw and did, per mapping. */
export interface MappingReport {
  readonly topic: string;
  readonly mappingUuid: string;
  /** The mapping's State after this invocation (Enabled, Disabling, …). */
  readonly mappingState: string;
  readonly breaker: BreakerPosition;
  readonly opens: number;
  /** When an open breaker's cool-down ends, ISO 8601. */
  readonly until?: string;
  readonly action: 'resumed' | 'closed' | 'forced open' | 'forced closed' | 'left alone (disabled by someone else)' | 'none';
  /** Why the mapping could not be read or changed. */
  readonly error?: string;
}

export interface ResumerReport {
  readonly command: ResumerRequest['command'];
  readonly mappings: MappingReport[];
}

const USAGE =
  'The resumer takes its EventBridge schedule\'s "Scheduled Event", or {"breaker":"open"|"close"|"status"} with an optional "topic": "<topic>" to limit it to that topic\'s mapping.';

/** The request in a payload; anything else is a BreakerCommandError saying what is accepted. Never quotes the payload. */
export function parseResumerRequest(payload: unknown): ResumerRequest {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new BreakerCommandError(
      `The payload is ${Array.isArray(payload) ? 'an array' : payload === null ? 'null' : `a ${typeof payload}`}. ${USAGE}`,
    );
  }
  const fields = payload as Record<string, unknown>;
  if (fields['detail-type'] === 'Scheduled Event') return { command: 'tick' };
  const { breaker, topic, ...rest } = fields;
  if (breaker !== 'open' && breaker !== 'close' && breaker !== 'status') {
    const given =
      breaker === undefined
        ? 'no "breaker" field'
        : `"breaker" ${typeof breaker === 'string' ? `"${breaker.slice(0, 20)}"` : `a ${typeof breaker}`}`;
    throw new BreakerCommandError(`The payload has ${given}. ${USAGE}`);
  }
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new BreakerCommandError(`Unknown fields ${unknown.map((k) => `"${k.slice(0, 40)}"`).join(', ')}. ${USAGE}`);
  if (topic !== undefined && (typeof topic !== 'string' || topic === '')) {
    throw new BreakerCommandError(
      `"topic" must be a topic name (a non-empty string), got ${typeof topic === 'string' ? 'an empty string' : `a ${typeof topic}`}. ${USAGE}`,
    );
  }
  return topic === undefined ? { command: breaker } : { command: breaker, topic };
}

export interface ResumerDependencies {
  readonly functionName: string;
  readonly settings: BreakerSettings;
  readonly control: MappingControl;
  readonly logger: Logger;
  readonly now: () => number;
}

/** Runs a request over the function's mappings; a mapping that fails is reported with its error, the others go on. */
export async function runResumer(request: ResumerRequest, deps: ResumerDependencies): Promise<ResumerReport> {
  const all = await deps.control.list(deps.functionName);
  const topic = request.command === 'tick' ? undefined : request.topic;
  const mappings = topic === undefined ? all : all.filter((m) => m.topics.includes(topic));
  if (topic !== undefined && mappings.length === 0) {
    const topics = [...new Set(all.flatMap((m) => m.topics))].join(', ') || 'none';
    throw new BreakerCommandError(
      `No event source mapping of ${deps.functionName} reads topic "${topic.slice(0, 249)}"; its topics: ${topics}.`,
    );
  }
  const reports = await Promise.all(mappings.map((m) => runOne(request.command, m, deps)));
  return { command: request.command, mappings: reports };
}

async function runOne(command: ResumerRequest['command'], mapping: MappingInfo, deps: ResumerDependencies): Promise<MappingReport> {
  const { control, settings } = deps;
  let state: BreakerState | undefined;
  let after = mapping;
  let action: MappingReport['action'] = 'none';
  try {
    state = await control.readState(mapping);
    const now = deps.now();
    if (command === 'open' || command === 'close') {
      const transition = onForce(state, command, now);
      after = await control.apply(mapping, transition, `forced by the ${command} command`, 0);
      state = transition.next;
      action = command === 'open' ? 'forced open' : 'forced closed';
    } else if (command === 'tick') {
      const decision = onTick(state, isPaused(mapping), now, settings);
      if (decision.action === 'resume') {
        const probation = baseCoolDownSeconds(state.opens, settings);
        after = await control.apply(mapping, decision.transition, 'cool-down over: re-enabled on probation', probation);
        state = decision.transition.next;
        action = 'resumed';
      } else if (decision.action === 'close') {
        after = await control.apply(mapping, decision.transition, 'probation passed without an outage', 0);
        state = decision.transition.next;
        action = 'closed';
      } else if (decision.action === 'leave-alone') {
        action = 'left alone (disabled by someone else)';
      }
    }
    return report(after, state, action);
  } catch (error) {
    const { type, message } = describeError(error);
    deps.logger.error('breaker: could not read or change this mapping', {
      topic: mapping.topics[0],
      mappingUuid: mapping.uuid,
      command,
      errorType: type,
      errorMessage: message,
    });
    return { ...report(after, state, action), error: `${type}: ${message}` };
  }
}

function report(mapping: MappingInfo, state: BreakerState | undefined, action: MappingReport['action']): MappingReport {
  return {
    topic: mapping.topics[0] ?? '',
    mappingUuid: mapping.uuid,
    mappingState: mapping.state,
    breaker: state?.position ?? 'closed',
    opens: state?.opens ?? 0,
    ...(state?.until !== undefined ? { until: new Date(state.until).toISOString() } : {}),
    action,
  };
}

/** Per mapping (dimension topic): MappingPaused 0/1 every time, BreakerResumed / BreakerClosed when they happened. */
function publish(report: ResumerReport): void {
  for (const m of report.mappings) {
    metrics.addDimension('topic', m.topic);
    metrics.addMetric('MappingPaused', MetricUnit.Count, isPaused({ state: m.mappingState }) ? 1 : 0);
    if (m.action === 'resumed') metrics.addMetric('BreakerResumed', MetricUnit.Count, 1);
    if (m.action === 'closed') metrics.addMetric('BreakerClosed', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
  }
}

export async function handler(payload: unknown, context: Context): Promise<ResumerReport> {
  logger.addContext(context);
  const request = parseResumerRequest(payload);
  const functionName = process.env[ENV.breakerFunctionName];
  if (!functionName) {
    throw new ConfigurationError(
      `${ENV.breakerFunctionName} is not set: the resumer re-enables the event source mappings of the consumer function it names.`,
    );
  }
  const settings = breakerSettingsFrom(process.env);
  if (!settings) {
    throw new ConfigurationError(
      `${ENV.breakerCoolDownSeconds} is not set: the resumer needs the breaker's cool-down (the construct sets it when breaker is on).`,
    );
  }
  const remaining = context.getRemainingTimeInMillis();
  const control = new MappingControl(logger, Date.now() + remaining - Math.min(SAFETY_MARGIN_MS, remaining / 4));
  const result = await runResumer(request, { functionName, settings, control, logger, now: Date.now });
  publish(result);
  const failed = result.mappings.filter((m) => m.error !== undefined);
  if (failed.length > 0) {
    throw new BreakerControlError(
      `The breaker of ${failed.length} of ${result.mappings.length} mappings could not be read or changed: ${failed.map((m) => `${m.topic} (${m.mappingUuid}): ${m.error}`).join('; ')}. Their other details are in the log; the next tick tries again.`,
    );
  }
  if (request.command !== 'tick') logger.info('resumer command done', { command: request.command, mappings: result.mappings });
  return result;
}
