import type { KafkaBatchResponse } from '../../src/runtime/index.js';
import type { KafkaEvent } from '../../src/runtime/event.js';

/** The floor: the least any handler must do, base64-decode and `JSON.parse` each value. */
export function floorHandler(fn: (value: unknown) => void) {
  return async (event: KafkaEvent): Promise<KafkaBatchResponse> => {
    for (const records of Object.values(event.records)) {
      for (const r of records) fn(JSON.parse(Buffer.from(r.value as string, 'base64').toString()));
    }
    return { batchItemFailures: [] };
  };
}
