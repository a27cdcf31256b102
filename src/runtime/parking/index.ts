// The park-key mode's code, loaded by import() only when a handler's failureMode is 'park-key':
// the other modes load none of it, and none of the DynamoDB client (see test/unit/runtime/parking/bundle.test.ts).
import { DynamoDbParkedKeyStore } from './parked-key-store.js';
import { KeyParking } from './key-parking.js';
import type { StartParking } from './parking.js';

/** What starts each invocation's parking, for a handler whose settings were checked (parkingTableFrom). */
export function openParking(table: string, consumerGroupId: string | undefined): StartParking {
  const settings = { store: new DynamoDbParkedKeyStore(table), consumerGroupId };
  return (...invocation) => new KeyParking(settings, ...invocation);
}
