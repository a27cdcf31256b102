// The parked-key set (park-key) in DynamoDB: one item per parked key of a topic-partition, written
// with conditional writes only, so that the consumer's parks and the replay's release of the same
// key never overwrite each other (docs/aws-contracts.md). The table is the idempotency ledger's
// (same schema) or one of its own; park items carry no expiry: a parked key waits for its release.
import type { AttributeValue, DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_TABLE } from '../../contract/index.js';
import { loadDynamoDb } from '../aws-clients.js';
import { parkedState } from './park-decision.js';
import { BatchEntryError } from '../errors.js';
import { callWithRetries, sendWithPartialRetries, transientAwsRetry, type EntryFailure } from '../retry.js';

/** A parked key as its item holds it. */
export interface ParkedKey {
  /** Changes each time the key is parked anew; release copies carry it (`x-dlq-park-epoch`). */
  readonly epoch: number;
  /** The offset of the record that failed for good, which the key is parked behind. */
  readonly head: number;
  /**
   * Records of the key before it run (they were run before it failed: a redelivery). The first
   * head of this parking: a key parked anew behind a failed release copy keeps it.
   */
  readonly since: number;
  /**
   * The parked records to release are the objects above it: `head` when first parked; when parked
   * anew behind a failed release copy, what the replay had produced (the rest of the old epoch's
   * records wait behind the new head, with the old copies parked again).
   */
  readonly after: number;
  /** The highest offset parked behind it (`head` while none is). */
  readonly last: number;
  /** Records parked behind it. */
  readonly count: number;
  /**
   * Set by the replay's release: the key is free, its item kept (until `expiresAt`) so that its next
   * parking takes the next epoch, never one that release copies still on the topic carry.
   */
  readonly released?: boolean;
  /** Set by the replay: the highest parked offset it produced release copies of. */
  readonly produced?: number;
  /** Set by the replay: the offset of its latest round of release copies; the key is released once the consumer is past it. */
  readonly copiesFrom?: number;
}

/** What a conditional write met instead of the state it expected: the key's item as it now is (undefined: none). */
export interface Changed {
  readonly changed: ParkedKey | undefined;
}

/**
 * The calls made on the parked-key table. Each retries transient failures until `deadline` (epoch ms)
 * and then throws; a condition that does not hold is an answer (`Changed`), not a failure.
 */
export interface ParkedKeyStore {
  /** The items of these ids (strongly consistent); absent ones are not in the map. */
  read(ids: readonly string[], deadline: number): Promise<Map<string, ParkedKey>>;
  /** One item (strongly consistent). */
  get(id: string, deadline: number): Promise<ParkedKey | undefined>;
  /**
   * Parks the key behind `head` with `epoch`: creates its item when `previous` is undefined (none
   * must exist), else parks it anew over the state of `previous.epoch` (a release copy failed).
   */
  park(id: string, head: number, epoch: number, previous: ParkedKey | undefined, deadline: number): Promise<ParkedKey | Changed>;
  /** Records `offset` as parked behind the key's `epoch`, if it is above `last`. */
  append(id: string, epoch: number, offset: number, deadline: number): Promise<ParkedKey | Changed>;
  /** Records that the replay produced the key's parked records up to `produced`, its copies from offset `copiesFrom` on. */
  markProduced(id: string, epoch: number, produced: number, copiesFrom: number, deadline: number): Promise<ParkedKey | Changed>;
  /** Releases the key if it is still at `epoch` with nothing parked after `last`; its item expires at `expiresAt` (epoch seconds). */
  release(id: string, epoch: number, last: number, expiresAt: number, deadline: number): Promise<true | Changed>;
}

const ID = IDEMPOTENCY_TABLE.partitionKey;
/** BatchGetItem reads at most 100 keys a call (docs/aws-contracts.md). */
const BATCH_GET_KEYS = 100;
const ATTEMPTS = 5;
const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const key = (id: string) => ({ [ID]: s(id) });
const NAMES = {
  '#id': ID,
  '#epoch': 'epoch',
  '#head': 'head',
  '#last': 'last',
  '#count': 'count',
  '#since': 'since',
  '#after': 'after',
  '#produced': 'produced',
  '#copiesFrom': 'copiesFrom',
  '#released': 'released',
  '#exp': IDEMPOTENCY_TABLE.expiryAttribute,
};
const { '#id': _id, ...PARK_NAMES } = NAMES;

function parkedKey(item: Record<string, AttributeValue> | undefined): ParkedKey | undefined {
  if (!item?.epoch?.N) return undefined;
  const produced = item.produced?.N;
  const copiesFrom = item.copiesFrom?.N;
  return {
    epoch: Number(item.epoch.N),
    head: Number(item.head?.N),
    since: Number(item.since?.N),
    after: Number(item.after?.N),
    last: Number(item.last?.N),
    count: Number(item.count?.N ?? 0),
    ...(item.released?.BOOL ? { released: true } : {}),
    ...(produced !== undefined ? { produced: Number(produced) } : {}),
    ...(copiesFrom !== undefined ? { copiesFrom: Number(copiesFrom) } : {}),
  };
}

const isChanged = (result: object | undefined): result is Changed => result !== undefined && 'changed' in result;
const isConditionFailure = (error: unknown) => (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

export class DynamoDbParkedKeyStore implements ParkedKeyStore {
  readonly #retry = transientAwsRetry(ATTEMPTS);

  constructor(readonly tableName: string) {}

  async read(ids: readonly string[], deadline: number): Promise<Map<string, ParkedKey>> {
    const { sdk, client } = await loadDynamoDb();
    const found = new Map<string, ParkedKey>();
    const send = async (batch: readonly string[]): Promise<EntryFailure[]> => {
      const { Responses, UnprocessedKeys } = await client.send(
        new sdk.BatchGetItemCommand({
          RequestItems: { [this.tableName]: { Keys: batch.map(key), ConsistentRead: true } },
        }),
      );
      for (const item of Responses?.[this.tableName] ?? []) {
        const parked = parkedKey(item);
        if (parked) found.set(item[ID]!.S!, parked);
      }
      const left = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      const index = new Map(batch.map((id, i) => [id, i]));
      const error = new BatchEntryError('Unprocessed', 'DynamoDB left it unprocessed (throughput exceeded)', false);
      return left.map((k) => ({ index: index.get(k[ID]!.S!)!, error }));
    };
    const unique = [...new Set(ids)];
    const calls: Promise<Array<{ error: unknown }>>[] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_KEYS)
      calls.push(sendWithPartialRetries(unique.slice(i, i + BATCH_GET_KEYS), send, this.#retry, deadline));
    const givenUp = (await Promise.all(calls)).flat();
    if (givenUp.length > 0) throw givenUp[0]!.error;
    return found;
  }

  async get(id: string, deadline: number): Promise<ParkedKey | undefined> {
    const { sdk, client } = await loadDynamoDb();
    const command = new sdk.GetItemCommand({ TableName: this.tableName, Key: key(id), ConsistentRead: true });
    return parkedKey((await callWithRetries(() => client.send(command), this.#retry, deadline)).Item);
  }

  async park(id: string, head: number, epoch: number, previous: ParkedKey | undefined, deadline: number) {
    const { sdk } = await loadDynamoDb();
    const parked = parkedState(head, epoch, previous);
    const command = new sdk.UpdateItemCommand({
      TableName: this.tableName,
      Key: key(id),
      // A key parked anew forgets the replay's progress of the epoch before.
      UpdateExpression:
        'SET #epoch = :epoch, #head = :head, #since = :since, #after = :after, #last = :head, #count = :zero REMOVE #produced, #copiesFrom, #released, #exp',
      ConditionExpression: previous ? '#epoch = :previous' : 'attribute_not_exists(#id)',
      ExpressionAttributeNames: previous ? PARK_NAMES : NAMES,
      ExpressionAttributeValues: {
        ':epoch': n(epoch),
        ':head': n(head),
        ':since': n(parked.since),
        ':after': n(parked.after),
        ':zero': n(0),
        ...(previous ? { ':previous': n(previous.epoch) } : {}),
      },
    });
    const result = await this.#conditional(id, command, deadline);
    return isChanged(result) ? result : parked;
  }

  async append(id: string, epoch: number, offset: number, deadline: number) {
    const { sdk } = await loadDynamoDb();
    const command = new sdk.UpdateItemCommand({
      TableName: this.tableName,
      Key: key(id),
      UpdateExpression: 'SET #last = :offset ADD #count :one',
      ConditionExpression: '#epoch = :epoch AND #last < :offset',
      ExpressionAttributeNames: { '#epoch': 'epoch', '#last': 'last', '#count': 'count' },
      ExpressionAttributeValues: { ':epoch': n(epoch), ':offset': n(offset), ':one': n(1) },
      ReturnValues: 'ALL_NEW',
    });
    const result = await this.#conditional(id, command, deadline);
    return isChanged(result) ? result : parkedKey(result)!;
  }

  async markProduced(id: string, epoch: number, produced: number, copiesFrom: number, deadline: number) {
    const { sdk } = await loadDynamoDb();
    const command = new sdk.UpdateItemCommand({
      TableName: this.tableName,
      Key: key(id),
      UpdateExpression: 'SET #produced = :produced, #copiesFrom = :copiesFrom',
      ConditionExpression: '#epoch = :epoch',
      ExpressionAttributeNames: { '#epoch': 'epoch', '#produced': 'produced', '#copiesFrom': 'copiesFrom' },
      ExpressionAttributeValues: { ':epoch': n(epoch), ':produced': n(produced), ':copiesFrom': n(copiesFrom) },
      ReturnValues: 'ALL_NEW',
    });
    const result = await this.#conditional(id, command, deadline);
    return isChanged(result) ? result : parkedKey(result)!;
  }

  async release(id: string, epoch: number, last: number, expiresAt: number, deadline: number) {
    const { sdk } = await loadDynamoDb();
    const command = new sdk.UpdateItemCommand({
      TableName: this.tableName,
      Key: key(id),
      UpdateExpression: 'SET #released = :true, #exp = :exp REMOVE #produced, #copiesFrom',
      ConditionExpression: '#epoch = :epoch AND #last = :last AND attribute_not_exists(#released)',
      ExpressionAttributeNames: {
        '#epoch': 'epoch',
        '#last': 'last',
        '#released': 'released',
        '#exp': NAMES['#exp'],
        '#produced': 'produced',
        '#copiesFrom': 'copiesFrom',
      },
      ExpressionAttributeValues: { ':epoch': n(epoch), ':last': n(last), ':true': { BOOL: true }, ':exp': n(expiresAt) },
    });
    const result = await this.#conditional(id, command, deadline);
    return isChanged(result) ? result : true;
  }

  // One conditional write: the attributes it returned, or, when its condition does not hold, the item as it now is.
  async #conditional(
    id: string,
    command: UpdateItemCommand | DeleteItemCommand,
    deadline: number,
  ): Promise<Record<string, AttributeValue> | undefined | Changed> {
    const { client } = await loadDynamoDb();
    const out = await callWithRetries(
      async () => {
        try {
          // One overload per command type: the union needs the cast.
          return { attributes: (await client.send(command as UpdateItemCommand)).Attributes };
        } catch (error) {
          if (isConditionFailure(error)) return 'failed' as const;
          throw error;
        }
      },
      this.#retry,
      deadline,
    );
    return out === 'failed' ? { changed: await this.get(id, deadline) } : out.attributes;
  }
}
