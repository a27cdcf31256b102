// The mapping settings as CDK context gives them (`-c key=value` strings, or JSON values from
// cdk.json): read by the repository's app at synth and by the local emulator alike.
import type { RecordFilter } from './event-filter.js';
import { MappingSettingsError } from './errors.js';
import type { MappingSettings, PollerMode, StartingPosition } from './mapping-settings.js';

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
    topics: (text('topics') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    consumerGroupId: text('consumerGroupId'),
    batchSize: num('batchSize'),
    maxBatchingWindowSeconds: num('maxBatchingWindowSeconds'),
    startingPosition: text('startingPosition') as StartingPosition | undefined,
    startingPositionTimestamp: num('startingPositionTimestamp'),
    pollerMode: text('pollerMode') as PollerMode | undefined,
    minPollers: num('minPollers'),
    maxPollers: num('maxPollers'),
    pollerGroupName: text('pollerGroupName'),
    retryAttempts: num('retryAttempts'),
    maxRecordAgeSeconds: num('maxRecordAgeSeconds'),
    bisectBatchOnError: bool('bisectBatchOnError'),
    reportBatchItemFailures: bool('reportBatchItemFailures'),
    filters: filtersFromContext(get('filters')),
  };
  // Drop what was not given, so defaults apply.
  return Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as unknown as MappingSettings;
}

/**
 * Filters from context: a list of patterns (`[{ "value": { "kind": ["order"] } }]`), from cdk.json
 * as JSON or from `-c filters='…'` as its text; each becomes what `lambda.FilterCriteria.filter()` returns.
 */
function filtersFromContext(v: unknown): RecordFilter[] | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  let list = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      throw new MappingSettingsError(
        `context filters is "${v}", which is not JSON: give a list of patterns, for example [{"value":{"kind":["order"]}}].`,
      );
    }
  }
  if (!Array.isArray(list) || list.some((p) => typeof p !== 'object' || p === null || Array.isArray(p))) {
    throw new MappingSettingsError(
      `context filters is ${JSON.stringify(list)}; give a list of patterns (objects), for example [{"value":{"kind":["order"]}}].`,
    );
  }
  return list.map((pattern) => ({ pattern: JSON.stringify(pattern) }));
}
