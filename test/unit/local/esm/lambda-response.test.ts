import { describe, expect, it } from 'vitest';
import { parseResponse } from '../../../../local/esm/lambda-response.js';

const records = [0, 1, 2].map((offset) => ({ topic: 'orders', partition: 0, offset }));

// docs/aws-contracts.md §2: an identifier that names a partition/offset not in the event, or an empty or
// null identifier, makes the whole batch count as failed; an empty list is success.
describe('the emulator reading a partial batch response', () => {
  it('takes the lowest offset named for each partition', () => {
    expect(
      parseResponse(
        {
          batchItemFailures: [
            { itemIdentifier: { partition: 'orders-0', offset: 2 } },
            { itemIdentifier: { partition: 'orders-0', offset: 1 } },
          ],
        },
        records,
      ),
    ).toEqual(new Map([['orders-0', 1]]));
    expect(parseResponse({ batchItemFailures: [] }, records)).toEqual(new Map());
    expect(parseResponse(null, records)).toEqual(new Map());
  });

  it.each([
    [{ partition: 'orders-1', offset: 1 }],
    [{ partition: 'orders-0', offset: 7 }], // the right partition, an offset not in the batch
    [{ partition: 'orders-0', offset: '1' }],
    [null],
  ])('fails the whole batch for the identifier %j', (itemIdentifier) => {
    expect(() => parseResponse({ batchItemFailures: [{ itemIdentifier }] }, records)).toThrow('the whole batch counts as failed');
  });
});

describe('the emulator reading a response of another shape', () => {
  it('counts a missing or null answer, or a null list, as success', () => {
    for (const response of [undefined, null, {}, { batchItemFailures: null }]) expect(parseResponse(response, records)).toEqual(new Map());
  });

  it('fails the whole batch for a list that is not a list, a null entry, or a partition that is not a string', () => {
    expect(() => parseResponse({ batchItemFailures: { itemIdentifier: { partition: 'orders-0', offset: 1 } } }, records)).toThrow(
      'batchItemFailures is not a list',
    );
    for (const failure of [null, { itemIdentifier: { partition: ['orders-0'], offset: 1 } }]) {
      expect(() => parseResponse({ batchItemFailures: [failure] }, records)).toThrow('the whole batch counts as failed');
    }
  });
});
