import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// patches/kafkajs+2.2.4+007+crashed-member-rejoins-as-itself.patch, consumer/index.js: a consumer that crashed while its group
// coordinator was out of reach (it could not leave the group) rejoins, on its restart, as the
// member it was. Unpatched kafkajs rejoins as a new member: the coordinator then waits, up to the
// session timeout, for the old member to rejoin or expire, and under brokers going down every few
// seconds each wait was cut by the next crash (issue 30: consumption stopped for good).
const require = createRequire(import.meta.url);
interface Consumer {
  subscribe(options: { topic: string }): Promise<void>;
  run(options: { eachBatch: () => Promise<void> }): Promise<void>;
  on(event: string, listener: (event: { payload: { restart: boolean } }) => void): void;
  events: { CRASH: string };
}
const createConsumer = require('kafkajs/src/consumer') as (options: Record<string, unknown>) => Consumer;
const { KafkaJSConnectionClosedError, KafkaJSNonRetriableError } = require('kafkajs/src/errors') as {
  KafkaJSConnectionClosedError: new (message: string, options: { host: string; port: number }) => Error;
  KafkaJSNonRetriableError: new (message: string) => Error;
};

const quiet = { namespace: () => quiet, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const topic = 'orders';

describe('kafkajs consumer restarted after a crash (patched)', () => {
  it('rejoins its group with the member id it had, when it could not leave the group', async () => {
    const joinedAs: string[] = [];
    let secondJoin: () => void;
    const secondJoined = new Promise<void>((resolve) => (secondJoin = resolve));
    // A coordinator that takes the first join, then goes down: the sync's connection closes, and so
    // does the leave's. The second join ends the test (a crash kafkajs does not restart from).
    const coordinator = {
      joinGroup: async ({ memberId }: { memberId: string }) => {
        joinedAs.push(memberId);
        if (joinedAs.length === 1) {
          return {
            generationId: 1,
            leaderId: 'member-1',
            memberId: 'member-1',
            groupProtocol: 'RoundRobinAssigner',
            members: [{ memberId: 'member-1', memberMetadata: Buffer.alloc(0) }],
          };
        }
        secondJoin();
        throw new KafkaJSNonRetriableError('end of test');
      },
      syncGroup: async () => {
        throw new KafkaJSConnectionClosedError('Closed connection', { host: 'localhost', port: 9092 });
      },
      leaveGroup: async () => {
        throw new KafkaJSConnectionClosedError('Closed connection', { host: 'localhost', port: 9092 });
      },
    };
    const cluster = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      refreshMetadata: async () => undefined,
      refreshMetadataIfNecessary: async () => undefined,
      addMultipleTargetTopics: async () => undefined,
      removeBroker: () => undefined,
      findGroupCoordinator: async () => coordinator,
      findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1 }],
      getNodeIds: () => [],
    };
    const consumer = createConsumer({ cluster, groupId: 'group', logger: quiet, retry: { retries: 0, initialRetryTime: 10 } });
    const restarts: boolean[] = [];
    consumer.on(consumer.events.CRASH, ({ payload }) => void restarts.push(payload.restart));
    await consumer.subscribe({ topic });
    await consumer.run({ eachBatch: async () => undefined });
    await secondJoined;

    expect(restarts[0]).toBe(true); // the connection's close is a crash kafkajs restarts from
    expect(joinedAs).toEqual(['', 'member-1']);
  });
});
