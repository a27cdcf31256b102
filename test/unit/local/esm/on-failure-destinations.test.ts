import { describe, expect, it } from 'vitest';
import { mappingUuidOf } from '../../../../local/esm/on-failure-destinations.js';

// S3 on-failure objects are filed under aws/lambda/<mapping UUID>/ (docs/aws-contracts.md): the
// emulator derives the UUID from the consumer group, so that it is the same after a restart.
describe('the emulated mapping UUID', () => {
  it('is a version 5 UUID (RFC 9562 layout), the same for one group and different for another', () => {
    const uuid = mappingUuidOf('lambda-esm-orders');
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(mappingUuidOf('lambda-esm-orders')).toBe(uuid);
    expect(mappingUuidOf('lambda-esm-payments')).not.toBe(uuid);
  });
});
