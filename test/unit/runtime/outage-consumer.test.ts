// The consumer's outage handling end to end in-process: the processor over a fake dead-letter
// queue and a fake Lambda API (the breaker's calls), with the breaker's environment set. A mapping
// may keep polling "up to 90 seconds" after an update
// (https://docs.aws.amazon.com/lambda/latest/dg/kafka-starting-positions.html): the sandbox holds
// what it gets meanwhile (docs/aws-contracts.md §12).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KafkaBatchProcessor } from '../../../src/runtime/batch-processor.js';
import type { KafkaConsumerOptions } from '../../../src/runtime/processor-config.js';
import { NonRetryableError, WholeBatchRetryError } from '../../../src/runtime/errors.js';
import type { KafkaRecord } from '../../../src/runtime/record.js';
import { BREAKER_TAG } from '../../../src/contract/index.js';
import { buildKafkaEvent, type BrokerRecord } from '../../support/kafka-event.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { captureOutput } from '../../support/output.js';
import { fakeQueue } from '../../support/dead-letter-transport.js';
import { fakeLambda, fakeMapping } from '../../support/fake-lambda.js';

const NOW = 1_700_000_000_000;
class DownstreamOutageError extends Error {
  override name = 'DownstreamOutageError';
  readonly code = 'ECONNREFUSED';
}
const records = (topic: string, partition: number, n: number): BrokerRecord[] =>
  Array.from({ length: n }, (_, offset) => ({ topic, partition, offset, key: `k${offset}`, value: JSON.stringify({ offset }) }));
const failures = (...ids: Array<[string, number]>) => ({
  batchItemFailures: ids.map(([partition, offset]) => ({ itemIdentifier: { partition, offset } })),
});
const emf = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l._aws);

function processor(options: Partial<KafkaConsumerOptions>) {
  const queue = fakeQueue();
  const p = new KafkaBatchProcessor({
    deadLetterQueueUrl: 'http://queue',
    deadLetterTransport: queue.transport,
    retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
    concurrency: 1,
    processRecord: async () => undefined,
    ...options,
  } as KafkaConsumerOptions);
  return { p, deadLettered: () => queue.sent.map(({ record: r }) => `${r.topic}-${r.partition}@${r.offset}`) };
}

beforeEach(() => {
  vi.stubEnv('BREAKER_COOL_DOWN_SECONDS', '60');
  vi.stubEnv('BREAKER_MAX_COOL_DOWN_SECONDS', '900');
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  vi.spyOn(Math, 'random').mockReturnValue(0.5); // jitter factor 1
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('a downstream outage in the consumer', () => {
  it('redelivers an outage record instead of dead-lettering it, starts no further record, and opens the breaker', async () => {
    const mappings = [fakeMapping('u1', 'orders')];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    const ran: string[] = [];
    const { p, deadLettered } = processor({
      processRecord: (r: KafkaRecord) => {
        ran.push(`${r.partitionKey}@${r.offset}`);
        if (r.partition === 0 && r.offset === 1) throw new DownstreamOutageError('downstream is down');
      },
    });
    const response = await p.process(
      buildKafkaEvent([...records('orders', 0, 3), ...records('orders', 1, 2)]),
      lambdaContext(30_000, 'consumer'),
    );
    expect(response).toEqual(failures(['orders-0', 1], ['orders-1', 0]));
    expect(deadLettered()).toEqual([]);
    expect(ran).toEqual(['orders-0@0', 'orders-0@1', 'orders-0@1', 'orders-0@1']); // its retries, then nothing
    expect(mappings[0]!.State).toBe('Disabled');
    expect(mappings[0]!.tags[BREAKER_TAG]).toBe(`state=open opens=1 since=${NOW} until=${NOW + 60_000}`);
    expect(lambda.calls.map((c) => c.name)).toEqual(['ListEventSourceMappings', 'ListTags', 'TagResource', 'UpdateEventSourceMapping']);
    expect(lambda.named('ListEventSourceMappings')).toEqual([{ FunctionName: 'consumer' }]);
    expect(lines.find((l) => l.message === 'breaker opened')).toMatchObject({
      topic: 'orders',
      mappingUuid: 'u1',
      opens: 1,
      coolDownSeconds: 60,
      reason: 'an outage error (DownstreamOutageError)',
    });
    expect(emf(lines)).toEqual([
      expect.objectContaining({
        topic: 'orders',
        RecordsRedeliveredForOutage: 4,
        BreakerOpened: 1,
        BreakerOpenFailed: 0,
        RecordsDeadLettered: 0,
      }),
    ]);
  });

  it('still dead-letters a record that fails with a plain Error, and calls no Lambda API', async () => {
    const lambda = fakeLambda([fakeMapping('u1', 'orders')]);
    const lines = captureOutput();
    const { p, deadLettered } = processor({
      processRecord: (r: KafkaRecord) => {
        if (r.offset === 0) throw new Error('order 0 cannot be processed');
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(deadLettered()).toEqual(['orders-0@0']);
    expect(lambda.calls).toEqual([]);
    expect(emf(lines)[0]).toMatchObject({ RecordsRedeliveredForOutage: 0, BreakerOpened: 0, BreakerOpenFailed: 0 });
  });

  // Found by the park-key chaos run (30,000 records): a record that fails once on its own (a
  // transient fault) met an outage on its first two attempts and its own failure on the third, and
  // was dead-lettered, its key parked, though it never had its retries.
  it('redelivers a record whose attempts an outage took and whose last failed on its own (retryably), opening no breaker', async () => {
    const lambda = fakeLambda([fakeMapping('u1', 'orders')]);
    captureOutput();
    const errors = [new DownstreamOutageError('down'), new DownstreamOutageError('down'), new Error('timed out, once')];
    const ran: number[] = [];
    const { p, deadLettered } = processor({
      processRecord: (r: KafkaRecord) => {
        ran.push(r.offset);
        const error = r.offset === 0 ? errors.shift() : undefined;
        if (error) throw error;
      },
    });
    const event = buildKafkaEvent(records('orders', 0, 2));
    expect(await p.process(event, lambdaContext(30_000, 'consumer'))).toEqual(failures(['orders-0', 0]));
    expect(deadLettered()).toEqual([]);
    expect(lambda.calls).toEqual([]);
    expect(ran).toEqual([0, 0, 0]);
    // Redelivered, it has all its attempts again.
    expect(await p.process(event, lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(ran).toEqual([0, 0, 0, 0, 1]);
  });

  it('still dead-letters a record whose last attempt fails for good (not retryable) after an outage took the others', async () => {
    fakeLambda([fakeMapping('u1', 'orders')]);
    captureOutput();
    const errors = [new DownstreamOutageError('down'), new NonRetryableError('order 0 is invalid')];
    const { p, deadLettered } = processor({
      processRecord: (r: KafkaRecord) => {
        const error = r.offset === 0 ? errors.shift() : undefined;
        if (error) throw error;
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(deadLettered()).toEqual(['orders-0@0']);
  });

  it('trips on consecutiveFailures records in a row: those before stay dead-lettered, the N-th and the rest are redelivered', async () => {
    const mappings = [fakeMapping('u1', 'orders')];
    fakeLambda(mappings);
    const lines = captureOutput();
    const { p, deadLettered } = processor({
      outage: { consecutiveFailures: 3 },
      processRecord: () => {
        throw new Error('anything at all');
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 6)), lambdaContext(30_000, 'consumer'))).toEqual(failures(['orders-0', 2]));
    expect(deadLettered()).toEqual(['orders-0@0', 'orders-0@1']);
    expect(mappings[0]!.State).toBe('Disabled');
    expect(lines.find((l) => l.message === 'breaker opened')?.reason).toBe(
      '3 records in a row failed all their attempts (outage.consecutiveFailures)',
    );
  });

  it('by default only outage errors trip: twenty plain failures in a row are all dead-lettered', async () => {
    const lambda = fakeLambda([fakeMapping('u1', 'orders')]);
    captureOutput();
    const { p, deadLettered } = processor({
      processRecord: () => {
        throw new Error('bad record');
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 20)), lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(deadLettered()).toHaveLength(20);
    expect(lambda.calls).toEqual([]);
  });

  it('never counts replayed dead letters toward consecutiveFailures: failing again is what a bad record does', async () => {
    const lambda = fakeLambda([fakeMapping('u1', 'orders')]);
    captureOutput();
    const { p, deadLettered } = processor({
      outage: { consecutiveFailures: 3 },
      processRecord: () => {
        throw new Error('still bad');
      },
    });
    const replayed = records('orders', 0, 5).map((r) => ({ ...r, headers: [['x-dlq-replay-count', '1'] as const] }));
    expect(await p.process(buildKafkaEvent(replayed), lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(deadLettered()).toHaveLength(5);
    expect(lambda.calls).toEqual([]);
  });

  it('with a success in between, the same failures never trip', async () => {
    const lambda = fakeLambda([fakeMapping('u1', 'orders')]);
    captureOutput();
    const { p, deadLettered } = processor({
      outage: { consecutiveFailures: 3 },
      processRecord: (r: KafkaRecord) => {
        if (r.offset !== 2) throw new Error('bad');
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 5)), lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(deadLettered()).toEqual(['orders-0@0', 'orders-0@1', 'orders-0@3', 'orders-0@4']);
    expect(lambda.calls).toEqual([]);
  });

  it('takes a classifier of the user: isOutage', async () => {
    class DbDown extends Error {}
    const mappings = [fakeMapping('u1', 'orders')];
    fakeLambda(mappings);
    captureOutput();
    const { p, deadLettered } = processor({
      outage: { isOutage: (e) => e instanceof DbDown },
      processRecord: () => {
        throw new DbDown('pool exhausted');
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'consumer'))).toEqual(failures(['orders-0', 0]));
    expect(deadLettered()).toEqual([]);
    expect(mappings[0]!.State).toBe('Disabled');
  });

  it('redelivers records of other partitions that fail after the trip, without retrying them', async () => {
    fakeLambda([fakeMapping('u1', 'orders')]);
    captureOutput();
    let release!: () => void;
    const outageSeen = new Promise<void>((resolve) => (release = resolve));
    let p0Attempts = 0;
    let p1Attempts = 0;
    const { p, deadLettered } = processor({
      concurrency: 2,
      processRecord: async (r: KafkaRecord) => {
        if (r.partition === 0) {
          // Its last attempt trips the breaker (within microtasks); partition 1's record fails after that.
          if (++p0Attempts === 3) setTimeout(release, 0);
          throw new DownstreamOutageError('down');
        }
        p1Attempts++;
        await outageSeen; // fails once partition 0 has tripped the breaker
        throw new Error('bad record');
      },
    });
    const response = await p.process(
      buildKafkaEvent([...records('orders', 0, 1), ...records('orders', 1, 2)]),
      lambdaContext(30_000, 'consumer'),
    );
    expect(response).toEqual(failures(['orders-0', 0], ['orders-1', 0]));
    expect(deadLettered()).toEqual([]);
    expect(p1Attempts).toBe(1);
  });

  it('falls back from a failing processBatch to one record at a time, and trips there', async () => {
    const mappings = [fakeMapping('u1', 'orders')];
    fakeLambda(mappings);
    captureOutput();
    let calls = 0;
    const { p, deadLettered } = processor({
      processRecord: undefined,
      processBatch: () => {
        calls++;
        throw new DownstreamOutageError('down');
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 4)), lambdaContext(30_000, 'consumer'))).toEqual(failures(['orders-0', 0]));
    expect(calls).toBe(1 + 3); // the batch, then the first record's attempts only
    expect(deadLettered()).toEqual([]);
    expect(mappings[0]!.State).toBe('Disabled');
  });

  it('on demand (no partial batch responses): fails the invocation so that the whole batch comes again, after opening the breaker', async () => {
    const mappings = [fakeMapping('u1', 'orders')];
    fakeLambda(mappings);
    captureOutput();
    const { p, deadLettered } = processor({
      reportBatchItemFailures: false,
      processRecord: () => {
        throw new DownstreamOutageError('down');
      },
    });
    await expect(p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'consumer'))).rejects.toBeInstanceOf(
      WholeBatchRetryError,
    );
    expect(deadLettered()).toEqual([]);
    expect(mappings[0]!.State).toBe('Disabled');
  });

  it('half-open → open again with the next, longer cool-down; already open → only makes sure the mapping is disabled', async () => {
    const mappings = [
      fakeMapping('u1', 'orders', { tags: { [BREAKER_TAG]: `state=half-open opens=2 since=${NOW - 1000}` } }),
      fakeMapping('u2', 'payments', { State: 'Enabled', tags: { [BREAKER_TAG]: `state=open opens=1 since=${NOW} until=${NOW + 5000}` } }),
    ];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    const { p } = processor({
      processRecord: () => {
        throw new DownstreamOutageError('down');
      },
    });
    await p.process(buildKafkaEvent(records('orders', 0, 1)), lambdaContext(30_000, 'consumer'));
    expect(mappings[0]!.tags[BREAKER_TAG]).toBe(`state=open opens=3 since=${NOW} until=${NOW + 240_000}`);
    await p.process(buildKafkaEvent(records('payments', 0, 1)), lambdaContext(30_000, 'consumer'));
    expect(mappings[1]!.tags[BREAKER_TAG]).toBe(`state=open opens=1 since=${NOW} until=${NOW + 5000}`); // not rewritten
    expect(mappings[1]!.State).toBe('Disabled');
    expect(lambda.named('TagResource')).toHaveLength(1);
    expect(emf(lines).map((l) => [l.topic, l.BreakerOpened])).toEqual([
      ['orders', 1],
      ['payments', 0],
    ]);
  });

  it('pauses only the mapping the event came from: same topic on another cluster is left alone', async () => {
    const other = fakeMapping('u2', 'orders', { EventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/other/ffff' });
    const mine = fakeMapping('u1', 'orders');
    const selfManaged = fakeMapping('u3', 'orders', {
      EventSourceArn: undefined,
      SelfManagedEventSource: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: ['b2:9092', 'b1:9092'] } },
    });
    fakeLambda([other, mine, selfManaged, fakeMapping('u4', 'payments')]);
    captureOutput();
    const { p } = processor({
      processRecord: () => {
        throw new DownstreamOutageError('down');
      },
    });
    await p.process(buildKafkaEvent(records('orders', 0, 1)), lambdaContext(30_000, 'consumer'));
    expect([other, mine, selfManaged].map((m) => m.State)).toEqual(['Enabled', 'Disabled', 'Enabled']);
    await p.process(
      buildKafkaEvent(records('orders', 0, 1), { eventSource: 'SelfManagedKafka', bootstrapServers: 'b1:9092,b2:9092' }),
      lambdaContext(30_000, 'consumer'),
    );
    expect([other, mine, selfManaged].map((m) => m.State)).toEqual(['Enabled', 'Disabled', 'Disabled']);
  });

  it('when the Lambda API fails: logs it, counts BreakerOpenFailed, and still redelivers the records', async () => {
    const denied = Object.assign(new Error('not authorized to perform lambda:TagResource'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 403 },
    });
    fakeLambda([fakeMapping('u1', 'orders')], {
      answer: (call) => {
        if (call.name === 'TagResource') throw denied;
        return undefined;
      },
    });
    const lines = captureOutput();
    const { p, deadLettered } = processor({
      processRecord: () => {
        throw new DownstreamOutageError('down');
      },
    });
    expect(await p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'consumer'))).toEqual(failures(['orders-0', 0]));
    expect(deadLettered()).toEqual([]);
    expect(lines.find((l) => l.level === 'ERROR')).toMatchObject({
      message: expect.stringMatching(/^breaker: could not open the breaker of this mapping/),
      errorType: 'AccessDeniedException',
      mappingUuid: 'u1',
    });
    expect(emf(lines)[0]).toMatchObject({ BreakerOpened: 0, BreakerOpenFailed: 1, RecordsRedeliveredForOutage: 2 });
  });

  it('with the breaker it opened still open, a sandbox runs no record: it holds the batch until the start-by deadline, then redelivers it all', async () => {
    const mappings = [fakeMapping('u1', 'orders')];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    let outage = true;
    const ran: number[] = [];
    const { p } = processor({
      processRecord: (r: KafkaRecord) => {
        ran.push(r.offset);
        if (outage) throw new DownstreamOutageError('down');
      },
    });
    await p.process(buildKafkaEvent(records('orders', 0, 1)), lambdaContext(30_000, 'consumer'));
    outage = false;
    ran.length = 0;
    vi.useRealTimers();
    vi.useFakeTimers({ now: NOW + 1000, toFake: ['Date'] }); // a second later: the mapping is still Disabling, say
    const context = lambdaContext(400, 'consumer'); // margin 200 ms: start-by 200 ms from now
    const held = p.process(buildKafkaEvent([...records('orders', 0, 3), ...records('orders', 1, 1)]), context);
    const response = await Promise.race([held, new Promise((r) => setTimeout(() => r('still holding'), 100))]);
    expect(response).toBe('still holding');
    vi.setSystemTime(NOW + 1200);
    expect(await held).toEqual(failures(['orders-0', 0], ['orders-1', 0]));
    expect(ran).toEqual([]);
    expect(lambda.named('ListEventSourceMappings')).toHaveLength(1); // no second trip
    expect(emf(lines).at(-1)).toMatchObject({ RecordsRedeliveredForOutage: 4, BreakerOpened: 0 });
    // Once the cool-down is over (the resumer re-enabled the mapping), records run again.
    vi.setSystemTime(NOW + 60_000);
    expect(await p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(ran).toEqual([0, 1]);
  });

  it('holds batches no longer than the 90 s a disabled mapping may still poll: after that the mapping was enabled again, and records run', async () => {
    vi.stubEnv('BREAKER_COOL_DOWN_SECONDS', '600');
    fakeLambda([fakeMapping('u1', 'orders')]);
    captureOutput();
    let outage = true;
    const ran: number[] = [];
    const { p } = processor({
      processRecord: (r: KafkaRecord) => {
        ran.push(r.offset);
        if (outage) throw new DownstreamOutageError('down');
      },
    });
    await p.process(buildKafkaEvent(records('orders', 0, 1)), lambdaContext(30_000, 'consumer')); // open until NOW + 600 s
    outage = false;
    ran.length = 0;
    vi.setSystemTime(NOW + 90_000); // say, a person's {"breaker":"close"}: the mapping polls again
    expect(await p.process(buildKafkaEvent(records('orders', 0, 2)), lambdaContext(30_000, 'consumer'))).toEqual(failures());
    expect(ran).toEqual([0, 1]);
  });

  it('is off with outage: false, though the breaker is configured: outage errors are dead-lettered', async () => {
    const lambda = fakeLambda([fakeMapping('u1', 'orders')]);
    const lines = captureOutput();
    const { p, deadLettered } = processor({
      outage: false,
      processRecord: () => {
        throw new DownstreamOutageError('down');
      },
    });
    await p.process(buildKafkaEvent(records('orders', 0, 1)), lambdaContext(30_000, 'consumer'));
    expect(deadLettered()).toEqual(['orders-0@0']);
    expect(lambda.calls).toEqual([]);
    expect(emf(lines)[0]).not.toHaveProperty('BreakerOpened');
  });

  it('is off without the breaker (no BREAKER_COOL_DOWN_SECONDS), and an outage option then names the fix', () => {
    vi.stubEnv('BREAKER_COOL_DOWN_SECONDS', '');
    expect(() => processor({ outage: {} })).toThrow(/outage option needs the outage breaker/);
    expect(() => processor({})).not.toThrow();
  });
});
