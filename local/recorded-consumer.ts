// The example consumer as `npm start` and `npm run chaos` run it, in a sandbox: its business
// logic wrapped so that the ground truth learns of every record it finished, with the runtime's
// idempotency ledger when the sandbox's data asks for it (`--idempotency`).
import { workerData } from 'node:worker_threads';
import { kafkaConsumer } from '../src/runtime/index.js';
import { idempotencyLedger } from '../src/runtime/idempotency/index.js';
import { processOrder } from '../app/consumer/index.js';
import { recording } from './ground-truth.js';

/** What `npm start` and `npm run chaos` pass to the sandbox (`SandboxOptions.data`). */
export interface RecordedConsumerData {
  /** Turn the runtime's idempotency ledger on (its table: `IDEMPOTENCY_TABLE`, from the local services). */
  readonly idempotency?: boolean;
}

const data = (workerData as { data?: RecordedConsumerData } | null)?.data;

/**
 * The example consumer; `beforeRecord` runs before the business logic of each record (the chaos
 * run's downstream outage throws there, so that the record is not finished); once `dataFixed`
 * says so, a record simulating a permanent failure is taken as corrected and succeeds.
 */
export function recordedConsumer(beforeRecord?: () => void, dataFixed?: () => boolean) {
  const process: typeof processOrder =
    beforeRecord || dataFixed
      ? async (record) => {
          beforeRecord?.();
          if (dataFixed?.() && record.value?.simulate === 'permanent-failure') return;
          await processOrder(record);
        }
      : processOrder;
  // With --idempotency the local services also set IDEMPOTENCY_TABLE, as the construct's prop does.
  return kafkaConsumer({
    processRecord: recording(process),
    idempotency: data?.idempotency ? idempotencyLedger() : false,
  });
}

export const handler = recordedConsumer();
