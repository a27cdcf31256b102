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

// With --idempotency the local services also set IDEMPOTENCY_TABLE, as the construct's prop does.
export const handler = kafkaConsumer({
  processRecord: recording(processOrder),
  idempotency: data?.idempotency ? idempotencyLedger() : false,
});
