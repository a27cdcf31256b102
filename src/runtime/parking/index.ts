// The park-key mode's code, loaded by import() only when a handler's failureMode is 'park-key':
// the other modes load none of it, and none of the DynamoDB client (see test/unit/runtime/parking/bundle.test.ts).
import { loadDynamoDb } from '../aws-clients.js';
import { DynamoDbParkedKeyStore } from './parked-key-store.js';
import { KeyParking } from './key-parking.js';
import type { StartParking } from './parking.js';

/** What starts each invocation's parking, for a handler whose settings were checked (parkingTableFrom). */
export function openParking(table: string, consumerGroupId: string | undefined): StartParking {
  // Every invocation reads its keys' parked state before any record runs: the DynamoDB client
  // loads now, during the cold start, not inside the first invocation's time. A failure to load
  // is the first invocation's to meet (its read fails, the batch is redelivered).
  loadDynamoDb().catch(() => undefined);
  const settings = { store: new DynamoDbParkedKeyStore(table), consumerGroupId };
  return (...invocation) => new KeyParking(settings, ...invocation);
}
