// The DynamoDB store's calls as DynamoDB's rules want them (docs/aws-contracts.md §11): at most
// 100 keys a BatchGetItem and 25 items a BatchWriteItem, no id twice in one call, unprocessed
// keys and items sent again, a refused condition read as an answer. The calls themselves run
// against the embedded DynamoDB in test/e2e/idempotency.test.ts.
import * as sdk from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';

const sent: Array<{ name: string; input: Record<string, unknown> }> = [];
let answer: (name: string, input: Record<string, unknown>) => unknown = () => ({});
vi.mock('../../../../src/runtime/aws-clients.js', () => ({
  loadDynamoDb: async () => ({
    sdk,
    client: {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const name = command.constructor.name.replace(/Command$/, '');
        sent.push({ name, input: command.input });
        return answer(name, command.input);
      },
    },
  }),
}));
const { DynamoDbLedgerStore } = await import('../../../../src/runtime/idempotency/dynamodb-store.js');

const store = new DynamoDbLedgerStore('ledger');
const FAR = Date.now() + 60_000;
beforeEach(() => {
  sent.length = 0;
  answer = () => ({});
});
const conditionFailed = () =>
  Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
    $metadata: { httpStatusCode: 400 },
  });

describe('DynamoDbLedgerStore', () => {
  it('reads ids 100 a call, each once, and sends again the keys DynamoDB left unprocessed', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `r|g|t|0|${i % 230}`); // 230 distinct
    let firstCall = true;
    answer = (_name, input) => {
      const keys = (input.RequestItems as Record<string, { Keys: Array<{ id: { S: string } }> }>).ledger!.Keys;
      const left = firstCall ? keys.slice(0, 3) : [];
      firstCall = false;
      const read = keys.filter((k) => !left.includes(k));
      return {
        Responses: { ledger: read.map((k) => ({ id: k.id, expiresAt: { N: '9' } })) },
        UnprocessedKeys: left.length ? { ledger: { Keys: left } } : {},
      };
    };
    const found = await store.getItems(ids, FAR);
    const sizes = sent.map((c) => (c.input.RequestItems as Record<string, { Keys: unknown[] }>).ledger!.Keys.length);
    expect(sizes.slice(0, 3).sort((a, b) => b - a)).toEqual([100, 100, 30]);
    expect(sizes.slice(3)).toEqual([3]); // the unprocessed ones, again
    expect(found.size).toBe(230);
    expect(found.get('r|g|t|0|7')).toEqual({ expiresAt: 9 });
    expect((sent[0]!.input.RequestItems as Record<string, { ConsistentRead: boolean }>).ledger!.ConsistentRead).toBe(true);
  });

  it('writes items 25 a call, each once, and sends again the items DynamoDB left unprocessed', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => `u|g|${i % 55}`);
    let firstCall = true;
    answer = (_name, input) => {
      const requests = (input.RequestItems as Record<string, Array<{ PutRequest: { Item: Record<string, unknown> } }>>).ledger!;
      const left = firstCall ? requests.slice(0, 2) : [];
      firstCall = false;
      return { UnprocessedItems: left.length ? { ledger: left } : {} };
    };
    await store.putItems(ids, 1_234, FAR);
    const sizes = sent.map((c) => (c.input.RequestItems as Record<string, unknown[]>).ledger!.length);
    expect(sizes.slice(0, 3).sort((a, b) => b - a)).toEqual([25, 25, 5]);
    expect(sizes.slice(3)).toEqual([2]);
    const first = (sent[0]!.input.RequestItems as Record<string, Array<{ PutRequest: { Item: unknown } }>>).ledger![0]!.PutRequest.Item;
    expect(first).toEqual({ id: { S: 'u|g|0' }, expiresAt: { N: '1234' } });
  });

  it('claims with one conditional update that returns the item as it was, and reads a refusal as "held"', async () => {
    answer = () => ({ Attributes: { id: { S: 'p' }, done: { S: '0-9' }, expiresAt: { N: '77' }, owner: { S: 'old' } } });
    expect(await store.claim('p', 'me', 5_000, 99, 1_000, FAR)).toEqual({ done: '0-9', expiresAt: 77 });
    expect(sent[0]).toMatchObject({
      name: 'UpdateItem',
      input: {
        TableName: 'ledger',
        ConditionExpression: 'attribute_not_exists(#until) OR #until < :now OR #owner = :me',
        ReturnValues: 'ALL_OLD',
        ExpressionAttributeValues: { ':me': { S: 'me' }, ':until': { N: '5000' }, ':exp': { N: '99' }, ':now': { N: '1000' } },
      },
    });
    answer = () => {
      throw conditionFailed();
    };
    expect(await store.claim('p', 'me', 5_000, 99, 1_000, FAR)).toBe('held');
    expect(sent).toHaveLength(2); // a refusal is an answer, not retried
  });

  it('writes done offsets while the lease is ours, letting it go when asked, and names only the attributes it uses', async () => {
    expect(await store.save('p', 'me', '0-9', 99, false, FAR)).toBe(true);
    expect(await store.save('p', 'me', '0-9', 99, true, FAR)).toBe(true);
    expect(await store.save('p', 'me', '', 99, true, FAR)).toBe(true);
    for (const { input } of sent) {
      const expressions = `${input.UpdateExpression as string} ${input.ConditionExpression as string}`;
      expect(Object.keys(input.ExpressionAttributeNames as object).every((name) => expressions.includes(name))).toBe(true);
    }
    expect(sent.map((c) => c.input.UpdateExpression)).toEqual([
      'SET #done = :done, #exp = :exp',
      'SET #done = :done, #exp = :exp REMOVE #owner, #until',
      'SET #exp = :exp REMOVE #done, #owner, #until',
    ]);
    answer = () => {
      throw conditionFailed();
    };
    expect(await store.save('p', 'me', '0-9', 99, true, FAR)).toBe(false);
  });

  it('retries throttling, then gives up at the deadline with the error', async () => {
    const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    answer = () => {
      throw throttled;
    };
    await expect(store.lease('p', Date.now() + 300)).rejects.toBe(throttled);
    expect(sent.length).toBeGreaterThan(1);
  });
});
