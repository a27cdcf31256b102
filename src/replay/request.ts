import { ConfigurationError } from '../contract/errors.js';
import { ReplayRequestError } from './errors.js';
import { ENV } from '../contract/index.js';

/** Where the replay reads: the runtime's dead-letter queue, or the bucket of the consumer's S3 on-failure destination. */
export type ReplaySource = 'dlq' | 's3';
export const REPLAY_SOURCES: readonly ReplaySource[] = ['dlq', 's3'];

/** What a caller may ask of the replay function. */
export interface ReplayRequest {
  /** Where to read: `dlq` (the dead-letter queue's envelopes) or `s3` (the S3 on-failure destination's objects). @default 'dlq' */
  readonly source?: ReplaySource;
  /** Dead letters (source `s3`: objects, each a discarded batch replayed whole) to read at most. @default 100, at most 10,000 */
  readonly maxMessages?: number;
  /** Read and validate, produce nothing, delete nothing. @default false */
  readonly dryRun?: boolean;
  /** Produce to this topic instead of each record's own; must be one the stack consumes. @default each record's topic */
  readonly targetTopic?: string;
  /**
   * Replay only dead letters of this topic and/or error type; others stay in the queue. Source
   * `s3`: `topic` only (objects holding a record of another topic stay in the bucket). @default all
   */
  readonly filter?: { readonly topic?: string; readonly errorType?: string };
  /**
   * Source `s3`: list the objects after this key (the `objects.lastKey` of a previous run's
   * summary), to get past objects a run left (over the replay limit, filtered out, malformed).
   * @default the first key under aws/lambda/
   */
  readonly startAfter?: string;
}

export interface ReplaySettings {
  readonly source: ReplaySource;
  readonly maxMessages: number;
  readonly dryRun: boolean;
  readonly targetTopic?: string;
  readonly filter: { readonly topic?: string; readonly errorType?: string };
  readonly startAfter?: string;
  /** The topics the replay may produce to (`REPLAY_ALLOWED_TOPICS`), checked for every record. */
  readonly allowedTopics: readonly string[];
}

export const MAX_MESSAGES_LIMIT = 10_000;

const KNOWN_FIELDS = new Set(['source', 'maxMessages', 'dryRun', 'targetTopic', 'filter', 'startAfter']);

/** Validates a request against the topics this stack consumes (`REPLAY_ALLOWED_TOPICS`). */
export function parseReplayRequest(payload: unknown, allowedTopics: readonly string[]): ReplaySettings {
  const request = (payload ?? {}) as Record<string, unknown>;
  if (typeof request !== 'object' || Array.isArray(request))
    throw new ReplayRequestError('The payload must be a JSON object like {"maxMessages": 100, "dryRun": true}.');
  const unknown = Object.keys(request).filter((k) => !KNOWN_FIELDS.has(k));
  if (unknown.length)
    throw new ReplayRequestError(`Unknown field(s) ${unknown.join(', ')}; allowed: ${[...KNOWN_FIELDS].join(', ')}.`, { fields: unknown });
  const { source = 'dlq', maxMessages = 100, dryRun = false, targetTopic, filter = {}, startAfter } = request;
  if (!REPLAY_SOURCES.includes(source as ReplaySource)) {
    throw new ReplayRequestError(
      `source must be one of ${REPLAY_SOURCES.map((s) => JSON.stringify(s)).join(', ')}, got ${JSON.stringify(source)}.`,
      { fields: ['source'] },
    );
  }
  if (!Number.isInteger(maxMessages) || (maxMessages as number) < 1 || (maxMessages as number) > MAX_MESSAGES_LIMIT) {
    throw new ReplayRequestError(
      `maxMessages must be a whole number from 1 to ${MAX_MESSAGES_LIMIT}, got ${JSON.stringify(maxMessages)}.`,
      { fields: ['maxMessages'] },
    );
  }
  if (typeof dryRun !== 'boolean')
    throw new ReplayRequestError(`dryRun must be true or false, got ${JSON.stringify(dryRun)}.`, { fields: ['dryRun'] });
  if (targetTopic !== undefined) {
    if (typeof targetTopic !== 'string' || !allowedTopics.includes(targetTopic)) {
      throw new ReplayRequestError(
        `targetTopic ${JSON.stringify(targetTopic)} is not one of the topics this stack consumes (${allowedTopics.join(', ') || 'none configured: set REPLAY_ALLOWED_TOPICS'}).`,
        { fields: ['targetTopic'] },
      );
    }
  }
  const f = filter as Record<string, unknown>;
  if (typeof f !== 'object' || f === null || Array.isArray(f) || Object.keys(f).some((k) => k !== 'topic' && k !== 'errorType')) {
    throw new ReplayRequestError('filter must be an object with optional string fields "topic" and "errorType".', { fields: ['filter'] });
  }
  for (const field of ['topic', 'errorType'] as const) {
    if (f[field] !== undefined && typeof f[field] !== 'string')
      throw new ReplayRequestError(`filter.${field} must be a string, got ${JSON.stringify(f[field])}.`, { fields: [`filter.${field}`] });
    // An empty string used to match everything (it is falsy): refused, not read as "no filter".
    if (f[field] === '')
      throw new ReplayRequestError(
        `filter.${field} is empty; name ${field === 'topic' ? 'a topic' : 'an error type'}, or leave filter.${field} out to replay them all.`,
        { fields: [`filter.${field}`] },
      );
  }
  if (startAfter !== undefined) {
    if (source !== 's3')
      throw new ReplayRequestError('startAfter is for source "s3" only (a queue has no keys to list after); remove it.', {
        fields: ['startAfter'],
      });
    if (typeof startAfter !== 'string' || startAfter === '')
      throw new ReplayRequestError(
        `startAfter must be an object key (the objects.lastKey of a previous run's summary), got ${JSON.stringify(startAfter)}.`,
        { fields: ['startAfter'] },
      );
  }
  if (source === 's3' && f.errorType !== undefined) {
    throw new ReplayRequestError(
      'filter.errorType has no equivalent for source "s3": an on-failure object records why Lambda gave up on the whole batch, not an error per record. Remove it, or filter by topic.',
      { fields: ['filter.errorType'] },
    );
  }
  return {
    source: source as ReplaySource,
    maxMessages: maxMessages as number,
    dryRun,
    ...(targetTopic !== undefined ? { targetTopic: targetTopic as string } : {}),
    filter: f as ReplaySettings['filter'],
    ...(startAfter !== undefined ? { startAfter: startAfter as string } : {}),
    allowedTopics,
  };
}

/**
 * The topics the replay may produce to, from `REPLAY_ALLOWED_TOPICS` (comma separated).
 * @throws ConfigurationError when it names none: every record is checked against it
 */
export function allowedTopicsFrom(env: NodeJS.ProcessEnv): string[] {
  const topics = (env[ENV.replayAllowedTopics] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (topics.length === 0) {
    throw new ConfigurationError(
      `${ENV.replayAllowedTopics} is not set: the replay produces only to the topics it names (comma separated), checked for every record. DeadLetterReplay sets it to the topics the consumer reads.`,
    );
  }
  return topics;
}

export function replayLimitFrom(env: NodeJS.ProcessEnv): number {
  const limit = Number(env[ENV.replayMaxCount] ?? 3);
  if (!Number.isInteger(limit) || limit < 1)
    throw new ConfigurationError(`${ENV.replayMaxCount} must be a whole number ≥ 1, got "${env[ENV.replayMaxCount]}".`);
  return limit;
}
