// The event source mapping's tuning: one definition, validated the same way for
// `cdk deploy` and for the local emulator, read from CDK context by both.

export type StartingPosition = 'LATEST' | 'TRIM_HORIZON' | 'AT_TIMESTAMP';

export interface MappingSettings {
  /** One mapping per topic. */
  readonly topics: readonly string[];
  /** The mapping's consumer group (1–200 characters of `[a-zA-Z0-9-/*:_+=.@-]`). @default Lambda generates one */
  readonly consumerGroupId?: string;
  /** Records per invocation, 1–10,000. @default 100 */
  readonly batchSize?: number;
  /** How long the mapping gathers records before invoking, whole seconds 0–300. @default unset: Lambda's Kafka default, 0.5 s */
  readonly maxBatchingWindowSeconds?: number;
  /** @default 'TRIM_HORIZON' */
  readonly startingPosition?: StartingPosition;
  /** Epoch seconds; only with AT_TIMESTAMP, and required by it. */
  readonly startingPositionTimestamp?: number;
  /** Provisioned mode: pollers at least (1–200). @default on-demand mode */
  readonly minPollers?: number;
  /** Provisioned mode: pollers at most (1–2,000, ≥ minPollers). @default on-demand mode */
  readonly maxPollers?: number;
  /** Retries of a failed invocation, -1 (infinite) or 0–10,000. Provisioned mode only. @default Lambda's default */
  readonly retryAttempts?: number;
  /** Records older than this are discarded to the on-failure queue, -1 or 60–604,800 s. Provisioned mode only. @default Lambda's default */
  readonly maxRecordAgeSeconds?: number;
  /** Split a failing batch in two and retry the halves. Provisioned mode only. @default false */
  readonly bisectBatchOnError?: boolean;
  /** Let the function report partial failures (the runtime always does). @default true */
  readonly reportBatchItemFailures?: boolean;
}

export const MAPPING_DEFAULTS = {
  batchSize: 100,
  maxBatchingWindowSeconds: 0.5,
  startingPosition: 'TRIM_HORIZON',
  reportBatchItemFailures: true,
} as const;

/** A setting that is out of range or inconsistent; the message names it, its value and what is allowed. */
export class MappingSettingsError extends Error {
  override name = 'MappingSettingsError';
}

const CONSUMER_GROUP = /^[a-zA-Z0-9\-/*:_+=.@-]{1,200}$/;
const TOPIC = /^[a-zA-Z0-9._-]{1,249}$/;

function range(name: string, value: number | undefined, min: number, max: number, extra?: number) {
  if (value === undefined) return;
  const ok = Number.isFinite(value) && ((value >= min && value <= max) || value === extra);
  if (!ok) {
    const allowed = extra === undefined ? `${min}–${max}` : `${extra} or ${min}–${max}`;
    throw new MappingSettingsError(`${name} is ${value}; it must be ${allowed}.`);
  }
}

/** Throws {@link MappingSettingsError} for the first setting that Lambda would refuse. */
export function validateMappingSettings(s: MappingSettings): void {
  if (s.topics.length === 0) throw new MappingSettingsError('topics is empty; name at least one topic to consume.');
  for (const topic of s.topics) {
    if (!TOPIC.test(topic)) throw new MappingSettingsError(`topic "${topic}" is not a valid Kafka topic name (1–249 characters of letters, digits, ".", "_" and "-").`);
  }
  if (s.consumerGroupId !== undefined && !CONSUMER_GROUP.test(s.consumerGroupId)) {
    throw new MappingSettingsError(`consumerGroupId "${s.consumerGroupId}" must be 1–200 characters of letters, digits and - / * : _ + = . @.`);
  }
  if (s.batchSize !== undefined && !Number.isInteger(s.batchSize)) throw new MappingSettingsError(`batchSize is ${s.batchSize}; it must be a whole number 1–10000.`);
  range('batchSize', s.batchSize, 1, 10_000);
  if (s.maxBatchingWindowSeconds !== undefined && !Number.isInteger(s.maxBatchingWindowSeconds)) {
    throw new MappingSettingsError(`maxBatchingWindowSeconds is ${s.maxBatchingWindowSeconds}; CloudFormation takes whole seconds 0–300 (leave it unset for Lambda's 0.5 s default).`);
  }
  range('maxBatchingWindowSeconds', s.maxBatchingWindowSeconds, 0, 300);
  if (s.startingPosition !== undefined && !['LATEST', 'TRIM_HORIZON', 'AT_TIMESTAMP'].includes(s.startingPosition)) {
    throw new MappingSettingsError(`startingPosition is "${s.startingPosition}"; it must be LATEST, TRIM_HORIZON or AT_TIMESTAMP.`);
  }
  if ((s.startingPosition === 'AT_TIMESTAMP') !== (s.startingPositionTimestamp !== undefined)) {
    throw new MappingSettingsError('startingPositionTimestamp goes with startingPosition AT_TIMESTAMP, and AT_TIMESTAMP needs it.');
  }
  range('minPollers', s.minPollers, 1, 200);
  range('maxPollers', s.maxPollers, 1, 2_000);
  if ((s.minPollers === undefined) !== (s.maxPollers === undefined)) {
    throw new MappingSettingsError('minPollers and maxPollers go together: set both for provisioned mode, or neither for on-demand.');
  }
  if (s.minPollers !== undefined && s.maxPollers !== undefined && s.minPollers > s.maxPollers) {
    throw new MappingSettingsError(`minPollers (${s.minPollers}) is greater than maxPollers (${s.maxPollers}).`);
  }
  range('retryAttempts', s.retryAttempts, 0, 10_000, -1);
  range('maxRecordAgeSeconds', s.maxRecordAgeSeconds, 60, 604_800, -1);
  const provisionedOnly = (['retryAttempts', 'maxRecordAgeSeconds', 'bisectBatchOnError'] as const).filter((k) => s[k] !== undefined && s[k] !== false);
  if (provisionedOnly.length > 0 && s.minPollers === undefined) {
    throw new MappingSettingsError(`${provisionedOnly.join(', ')} need(s) the mapping in provisioned mode: set minPollers and maxPollers too.`);
  }
}

/** Reads the settings from CDK context values (strings from `-c key=value`, or JSON values from cdk.json). */
export function mappingSettingsFromContext(get: (key: string) => unknown): MappingSettings {
  const text = (key: string) => {
    const v = get(key);
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  const num = (key: string) => {
    const v = text(key);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new MappingSettingsError(`context ${key} is "${v}", which is not a number.`);
    return n;
  };
  const bool = (key: string) => {
    const v = text(key);
    if (v === undefined) return undefined;
    if (v !== 'true' && v !== 'false') throw new MappingSettingsError(`context ${key} is "${v}"; use true or false.`);
    return v === 'true';
  };
  const settings = {
    topics: (text('topics') ?? '').split(',').map((t) => t.trim()).filter(Boolean),
    consumerGroupId: text('consumerGroupId'),
    batchSize: num('batchSize'),
    maxBatchingWindowSeconds: num('maxBatchingWindowSeconds'),
    startingPosition: text('startingPosition') as StartingPosition | undefined,
    startingPositionTimestamp: num('startingPositionTimestamp'),
    minPollers: num('minPollers'),
    maxPollers: num('maxPollers'),
    retryAttempts: num('retryAttempts'),
    maxRecordAgeSeconds: num('maxRecordAgeSeconds'),
    bisectBatchOnError: bool('bisectBatchOnError'),
    reportBatchItemFailures: bool('reportBatchItemFailures'),
  };
  // Drop what was not given, so defaults apply.
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as unknown as MappingSettings;
}
