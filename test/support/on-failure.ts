import { onFailureRecord, type OnFailureDestination, type OnFailureRecord } from '../../local/esm/on-failure-destinations';

/**
 * A destination that keeps, in memory, the metadata record an SQS destination would get: for
 * tests about when and why the mapping gives up. test/e2e/on-failure-destinations.test.ts writes
 * to the real ones.
 */
export function recordingDestination(): { destination: OnFailureDestination; records: OnFailureRecord[] } {
  const records: OnFailureRecord[] = [];
  return { destination: { target: 'memory', send: async (batch) => void records.push(onFailureRecord(batch)) }, records };
}
