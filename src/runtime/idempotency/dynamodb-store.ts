import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_TABLE } from '../../contract/index.js';
import { loadDynamoDb } from '../aws-clients.js';
import { BatchEntryError } from '../errors.js';
import { callWithRetries, sendWithPartialRetries, transientAwsRetry, type EntryFailure } from '../retry.js';
import type { Lease } from './ledger-policy.js';
import type { LedgerStore, StoredItem } from './ledger-store.js';

/** BatchGetItem reads at most 100 keys a call, BatchWriteItem writes at most 25 items (docs/aws-contracts.md). */
export const BATCH_GET_KEYS = 100;
export const BATCH_WRITE_ITEMS = 25;
const ATTEMPTS = 5;

const { partitionKey: ID, expiryAttribute: EXPIRES_AT } = IDEMPOTENCY_TABLE;
const NAMES = { '#owner': 'owner', '#until': 'until', '#done': 'done', '#exp': EXPIRES_AT };
const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const key = (id: string) => ({ [ID]: s(id) });

function storedItem(item: Record<string, AttributeValue> | undefined): StoredItem | undefined {
  if (!item) return undefined;
  const done = item.done?.S;
  const expiresAt = item[EXPIRES_AT]?.N;
  return { ...(done !== undefined ? { done } : {}), ...(expiresAt !== undefined ? { expiresAt: Number(expiresAt) } : {}) };
}

const isConditionFailure = (error: unknown) => (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

/**
 * The ledger's table in DynamoDB: the conditional updates that take, keep and let go of a
 * partition's lease, and the batched reads and writes of per-record items. Only the actions
 * `IDEMPOTENCY_ACTIONS` names (the construct grants exactly those). No transactions: each
 * write touches one item, which is atomic on its own (and all that a local dynalite offers).
 */
export class DynamoDbLedgerStore implements LedgerStore {
  readonly #retry = transientAwsRetry(ATTEMPTS);

  constructor(readonly tableName: string) {}

  async claim(id: string, owner: string, until: number, expiresAt: number, now: number, deadline: number) {
    const { sdk, client } = await loadDynamoDb();
    const command = new sdk.UpdateItemCommand({
      TableName: this.tableName,
      Key: key(id),
      UpdateExpression: 'SET #owner = :me, #until = :until, #exp = :exp',
      // Free (never held, or let go), past its holder's deadline, or already ours (a retry of this invocation's call).
      ConditionExpression: 'attribute_not_exists(#until) OR #until < :now OR #owner = :me',
      ExpressionAttributeNames: { '#owner': NAMES['#owner'], '#until': NAMES['#until'], '#exp': NAMES['#exp'] },
      ExpressionAttributeValues: { ':me': s(owner), ':until': n(until), ':exp': n(expiresAt), ':now': n(now) },
      // The item before this write: its done offsets, and its expiry as it was (this write renews it).
      ReturnValues: 'ALL_OLD',
    });
    return callWithRetries(
      async () => {
        try {
          return storedItem((await client.send(command)).Attributes);
        } catch (error) {
          if (isConditionFailure(error)) return 'held' as const;
          throw error;
        }
      },
      this.#retry,
      deadline,
    );
  }

  async lease(id: string, deadline: number): Promise<Lease | undefined> {
    const { sdk, client } = await loadDynamoDb();
    const command = new sdk.GetItemCommand({
      TableName: this.tableName,
      Key: key(id),
      ConsistentRead: true,
      ProjectionExpression: '#owner, #until',
      ExpressionAttributeNames: { '#owner': NAMES['#owner'], '#until': NAMES['#until'] },
    });
    const { Item } = await callWithRetries(() => client.send(command), this.#retry, deadline);
    if (!Item) return undefined;
    const owner = Item.owner?.S;
    const until = Item.until?.N;
    return { ...(owner !== undefined ? { owner } : {}), ...(until !== undefined ? { until: Number(until) } : {}) };
  }

  async save(id: string, owner: string, done: string, expiresAt: number, release: boolean, deadline: number) {
    const { sdk, client } = await loadDynamoDb();
    const set = done === '' ? 'SET #exp = :exp' : 'SET #done = :done, #exp = :exp';
    const remove = [...(done === '' ? ['#done'] : []), ...(release ? ['#owner', '#until'] : [])];
    const command = new sdk.UpdateItemCommand({
      TableName: this.tableName,
      Key: key(id),
      UpdateExpression: `${set}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ConditionExpression: '#owner = :me',
      // DynamoDB refuses a name the expressions do not use: #until only when the lease goes.
      ExpressionAttributeNames: release ? NAMES : { '#owner': NAMES['#owner'], '#done': NAMES['#done'], '#exp': NAMES['#exp'] },
      ExpressionAttributeValues: { ':me': s(owner), ':exp': n(expiresAt), ...(done === '' ? {} : { ':done': s(done) }) },
    });
    return callWithRetries(
      async () => {
        try {
          await client.send(command);
          return true;
        } catch (error) {
          if (isConditionFailure(error)) return false;
          throw error;
        }
      },
      this.#retry,
      deadline,
    );
  }

  async getItems(ids: readonly string[], deadline: number): Promise<Map<string, StoredItem>> {
    const { sdk, client } = await loadDynamoDb();
    const found = new Map<string, StoredItem>();
    const send = async (batch: readonly string[]): Promise<EntryFailure[]> => {
      const { Responses, UnprocessedKeys } = await client.send(
        new sdk.BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: {
              Keys: batch.map(key),
              ConsistentRead: true,
              ProjectionExpression: '#id, #done, #exp',
              ExpressionAttributeNames: { '#id': ID, '#done': NAMES['#done'], '#exp': NAMES['#exp'] },
            },
          },
        }),
      );
      for (const item of Responses?.[this.tableName] ?? []) found.set(item[ID]!.S!, storedItem(item)!);
      return unprocessed(batch, UnprocessedKeys?.[this.tableName]?.Keys);
    };
    await this.#inBatches(unique(ids), BATCH_GET_KEYS, send, deadline);
    return found;
  }

  async putItems(ids: readonly string[], expiresAt: number, deadline: number): Promise<void> {
    const { sdk, client } = await loadDynamoDb();
    const send = async (batch: readonly string[]): Promise<EntryFailure[]> => {
      const { UnprocessedItems } = await client.send(
        new sdk.BatchWriteItemCommand({
          RequestItems: { [this.tableName]: batch.map((id) => ({ PutRequest: { Item: { ...key(id), [EXPIRES_AT]: n(expiresAt) } } })) },
        }),
      );
      return unprocessed(
        batch,
        UnprocessedItems?.[this.tableName]?.map((r) => r.PutRequest?.Item ?? {}),
      );
    };
    await this.#inBatches(unique(ids), BATCH_WRITE_ITEMS, send, deadline);
  }

  // Calls of at most `size` ids at once; what the service left unprocessed is sent again.
  async #inBatches(ids: string[], size: number, send: (batch: readonly string[]) => Promise<EntryFailure[]>, deadline: number) {
    const calls: Promise<Array<{ error: unknown }>>[] = [];
    for (let i = 0; i < ids.length; i += size) calls.push(sendWithPartialRetries(ids.slice(i, i + size), send, this.#retry, deadline));
    const givenUp = (await Promise.all(calls)).flat();
    if (givenUp.length > 0) throw givenUp[0]!.error;
  }
}

// A batch call's request must not name one key twice (DynamoDB refuses it).
const unique = (ids: readonly string[]) => [...new Set(ids)];

/** The entries of `batch` the service left unprocessed (throttled), as retryable failures. */
function unprocessed(batch: readonly string[], left: ReadonlyArray<Record<string, AttributeValue>> | undefined): EntryFailure[] {
  if (!left || left.length === 0) return [];
  const index = new Map(batch.map((id, i) => [id, i]));
  const error = new BatchEntryError('Unprocessed', 'DynamoDB left it unprocessed (throughput exceeded)', false);
  return left.map((item) => ({ index: index.get(item[ID]!.S!)!, error }));
}
