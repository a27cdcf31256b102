import { EmulatorError } from '../errors.js';
import type { BrokerRecord } from './lambda-event.js';

// Lambda's rules for a function's response to a Kafka event (partial batch responses).

/** What a response would have redelivered, for a mapping that ignores it (malformed answers included). */
export function ignoredResponse(response: unknown, records: BrokerRecord[]): Map<string, number> {
  try {
    return parseResponse(response, records);
  } catch {
    return new Map();
  }
}

/**
 * Applies Lambda's rules to a response: empty or null means success; each identifier must
 * name a partition and offset of this invocation, else the whole batch failed.
 */
export function parseResponse(response: unknown, records: BrokerRecord[]): Map<string, number> {
  const result = new Map<string, number>();
  if (response === null || response === undefined) return result;
  const failures = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return result;
  if (!Array.isArray(failures)) throw new EmulatorError('batchItemFailures is not a list');
  if (failures.length === 0) return result;
  const present = new Set(records.map((r) => `${r.topic}-${r.partition}@${r.offset}`));
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: { partition?: unknown; offset?: unknown } })?.itemIdentifier;
    if (!id || typeof id.partition !== 'string' || typeof id.offset !== 'number' || !present.has(`${id.partition}@${id.offset}`)) {
      throw new EmulatorError(`invalid itemIdentifier ${JSON.stringify(id)}: the whole batch counts as failed`);
    }
    result.set(id.partition, Math.min(result.get(id.partition) ?? id.offset, id.offset));
  }
  return result;
}
