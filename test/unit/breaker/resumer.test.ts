import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler, parseResumerRequest } from '../../../src/breaker/resumer.js';
import { lambdaContext } from '../../../local/esm/lambda-context.js';
import { BREAKER_TAG } from '../../../src/contract/index.js';
import { captureOutput } from '../../support/output.js';
import { fakeLambda, fakeMapping } from '../../support/fake-lambda.js';

// The resumer handler over a fake Lambda API, with a fake clock. The API as AWS documents it
// (docs/aws-contracts.md §12): ListEventSourceMappings pages with Marker/NextMarker
// (https://docs.aws.amazon.com/lambda/latest/api/API_ListEventSourceMappings.html); Enabled pauses
// and resumes "from the same location", State Enabling/Enabled/Disabling/Disabled…
// (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateEventSourceMapping.html); a change in
// progress is ResourceInUseException/ResourceConflictException; the state is a tag on the mapping's
// ARN (https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html).
const NOW = 1_700_000_000_000;
const TICK = { 'detail-type': 'Scheduled Event', source: 'aws.events' };
const tick = () => handler(TICK, lambdaContext(60_000, 'resumer'));
const tag = (value: string) => ({ [BREAKER_TAG]: value });
const emf = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l._aws);

beforeEach(() => {
  vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  vi.stubEnv('BREAKER_FUNCTION_NAME', 'consumer');
  vi.stubEnv('BREAKER_COOL_DOWN_SECONDS', '60');
  vi.stubEnv('BREAKER_MAX_COOL_DOWN_SECONDS', '900');
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('resumer tick', () => {
  it('re-enables an open mapping whose cool-down is over, half-open, in one log line, and counts it', async () => {
    const mappings = [
      fakeMapping('u1', 'orders', { State: 'Disabled', tags: tag(`state=open opens=2 since=${NOW - 120_000} until=${NOW}`) }),
    ];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    const report = await tick();
    expect(lambda.named('UpdateEventSourceMapping')).toEqual([{ UUID: 'u1', Enabled: true }]);
    expect(mappings[0]!.tags[BREAKER_TAG]).toBe(`state=half-open opens=2 since=${NOW}`);
    // Enabled before the tag says half-open: a half-open tag on a disabled mapping would look like a person's pause.
    expect(lambda.calls.map((c) => c.name)).toEqual(['ListEventSourceMappings', 'ListTags', 'UpdateEventSourceMapping', 'TagResource']);
    expect(report.mappings).toEqual([
      { topic: 'orders', mappingUuid: 'u1', mappingState: 'Enabled', breaker: 'half-open', opens: 2, action: 'resumed' },
    ]);
    const transitions = lines.filter((l) => typeof l.message === 'string' && (l.message as string).startsWith('breaker '));
    expect(transitions).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'breaker half-open',
        topic: 'orders',
        mappingUuid: 'u1',
        opens: 2,
        coolDownSeconds: 120,
      }),
    ]);
    expect(emf(lines)).toEqual([expect.objectContaining({ topic: 'orders', MappingPaused: 0, BreakerResumed: 1 })]);
  });

  it('leaves an open mapping paused before `until`, and publishes MappingPaused 1', async () => {
    const mappings = [fakeMapping('u1', 'orders', { State: 'Disabled', tags: tag(`state=open opens=1 since=${NOW} until=${NOW + 1}`) })];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    expect((await tick()).mappings[0]).toMatchObject({ action: 'none', breaker: 'open', until: new Date(NOW + 1).toISOString() });
    expect(lambda.named('UpdateEventSourceMapping')).toEqual([]);
    expect(emf(lines)).toEqual([expect.objectContaining({ topic: 'orders', MappingPaused: 1 })]);
    expect(emf(lines)[0]).not.toHaveProperty('BreakerResumed');
  });

  it('closes a half-open breaker after its probation, and counts it', async () => {
    const mappings = [fakeMapping('u1', 'orders', { tags: tag(`state=half-open opens=1 since=${NOW - 60_000}`) })];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    expect((await tick()).mappings[0]).toMatchObject({ action: 'closed', breaker: 'closed', opens: 0 });
    expect(mappings[0]!.tags[BREAKER_TAG]).toBe(`state=closed opens=0 since=${NOW}`);
    expect(lambda.named('UpdateEventSourceMapping')).toEqual([]); // already enabled
    expect(lines.find((l) => l.message === 'breaker closed')).toMatchObject({ topic: 'orders', mappingUuid: 'u1', opens: 0 });
    expect(emf(lines)).toEqual([expect.objectContaining({ MappingPaused: 0, BreakerClosed: 1 })]);
  });

  it('leaves alone a mapping a person disabled (breaker closed, half-open or no tag), still reporting it paused', async () => {
    const mappings = [
      fakeMapping('u1', 'a', { State: 'Disabled' }),
      fakeMapping('u2', 'b', { State: 'Disabled', tags: tag(`state=half-open opens=1 since=0`) }),
      fakeMapping('u3', 'c', { State: 'Disabling', tags: tag(`state=closed opens=0 since=0`) }),
    ];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    const report = await tick();
    expect(report.mappings.map((m) => m.action)).toEqual(Array(3).fill('left alone (disabled by someone else)'));
    expect(lambda.named('UpdateEventSourceMapping')).toEqual([]);
    expect(lambda.named('TagResource')).toEqual([]);
    expect(emf(lines).map((l) => l.MappingPaused)).toEqual([1, 1, 1]);
  });

  it('never resumes a forced-open breaker', async () => {
    const mappings = [fakeMapping('u1', 'orders', { State: 'Disabled', tags: tag('state=forced-open opens=0 since=0') })];
    const lambda = fakeLambda(mappings);
    captureOutput();
    expect((await tick()).mappings[0]).toMatchObject({ action: 'none', breaker: 'forced-open' });
    expect(lambda.named('UpdateEventSourceMapping')).toEqual([]);
  });

  it('takes an unreadable tag as closed, with a warning, and goes on', async () => {
    const mappings = [fakeMapping('u1', 'orders', { tags: tag('state=ajar') })];
    fakeLambda(mappings);
    const lines = captureOutput();
    expect((await tick()).mappings[0]).toMatchObject({ action: 'none', breaker: 'closed' });
    expect(lines.find((l) => l.level === 'WARN')?.message).toMatch(/kafka-consumers:breaker tag of this mapping is unreadable/);
  });

  it('follows NextMarker through every page of mappings', async () => {
    const mappings = Array.from({ length: 5 }, (_, i) => fakeMapping(`u${i}`, `t${i}`));
    const lambda = fakeLambda(mappings, { pageSize: 2 });
    captureOutput();
    expect((await tick()).mappings.map((m) => m.mappingUuid)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(lambda.named('ListEventSourceMappings')).toEqual([
      { FunctionName: 'consumer' },
      { FunctionName: 'consumer', Marker: '2' },
      { FunctionName: 'consumer', Marker: '4' },
    ]);
  });

  it('retries a change in progress, then reports the mapping as failed while the others go on', async () => {
    const open = tag(`state=open opens=1 since=0 until=${NOW}`);
    const mappings = [
      fakeMapping('u1', 'a', { State: 'Disabled', tags: { ...open } }),
      fakeMapping('u2', 'b', { State: 'Disabled', tags: { ...open } }),
    ];
    const inUse = Object.assign(new Error('mapping is Disabling'), { name: 'ResourceInUseException', $metadata: { httpStatusCode: 400 } });
    const lambda = fakeLambda(mappings, {
      answer: (call) => {
        if (call.name === 'UpdateEventSourceMapping' && call.input.UUID === 'u1') throw inUse;
        return undefined;
      },
    });
    const lines = captureOutput();
    await expect(tick()).rejects.toMatchObject({
      name: 'BreakerControlError',
      message: expect.stringContaining(
        '1 of 2 mappings could not be read or changed: a (u1): ResourceInUseException: mapping is Disabling',
      ),
    });
    expect(lambda.named('UpdateEventSourceMapping').filter((c) => c.UUID === 'u1')).toHaveLength(4);
    expect(mappings[0]!.tags[BREAKER_TAG]).toMatch(/^state=open/); // not half-open while still disabled
    expect(mappings[1]!.tags[BREAKER_TAG]).toMatch(/^state=half-open/);
    expect(lines.find((l) => l.level === 'WARN')?.message).toMatch(/Lambda still refuses Enabled=true \(another change is in progress\)/);
    expect(emf(lines).map((l) => [l.topic, l.MappingPaused])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
  });
});

describe('force commands', () => {
  it('open: tags forced-open first, then disables; close: enables first, then tags closed', async () => {
    const mappings = [fakeMapping('u1', 'orders', { tags: tag('state=half-open opens=3 since=0') })];
    const lambda = fakeLambda(mappings);
    const lines = captureOutput();
    const opened = await handler({ breaker: 'open' }, lambdaContext(60_000, 'resumer'));
    expect(opened.mappings[0]).toMatchObject({ action: 'forced open', breaker: 'forced-open', opens: 3, mappingState: 'Disabled' });
    expect(lambda.calls.map((c) => c.name).slice(-2)).toEqual(['TagResource', 'UpdateEventSourceMapping']);
    const closed = await handler({ breaker: 'close' }, lambdaContext(60_000, 'resumer'));
    expect(closed.mappings[0]).toMatchObject({ action: 'forced closed', breaker: 'closed', opens: 0, mappingState: 'Enabled' });
    expect(lambda.calls.map((c) => c.name).slice(-2)).toEqual(['UpdateEventSourceMapping', 'TagResource']);
    expect(lines.filter((l) => /^breaker forced/.test(String(l.message))).map((l) => l.message)).toEqual([
      'breaker forced open',
      'breaker forced closed',
    ]);
  });

  it('status reports and changes nothing; "topic" limits a command to that topic\'s mapping', async () => {
    const mappings = [
      fakeMapping('u1', 'a'),
      fakeMapping('u2', 'b', { State: 'Disabled', tags: tag(`state=open opens=1 since=0 until=${NOW + 5}`) }),
    ];
    const lambda = fakeLambda(mappings);
    captureOutput();
    const status = await handler({ breaker: 'status' }, lambdaContext(60_000, 'resumer'));
    expect(status.mappings.map((m) => [m.topic, m.breaker, m.mappingState])).toEqual([
      ['a', 'closed', 'Enabled'],
      ['b', 'open', 'Disabled'],
    ]);
    await handler({ breaker: 'close', topic: 'b' }, lambdaContext(60_000, 'resumer'));
    expect(lambda.named('UpdateEventSourceMapping')).toEqual([{ UUID: 'u2', Enabled: true }]);
    expect(lambda.named('TagResource').map((t) => t.Resource)).toEqual([mappings[1]!.EventSourceMappingArn]);
  });

  it('a topic no mapping reads is an error naming the topics there are', async () => {
    fakeLambda([fakeMapping('u1', 'a'), fakeMapping('u2', 'b')]);
    captureOutput();
    await expect(handler({ breaker: 'open', topic: 'c' }, lambdaContext(60_000, 'resumer'))).rejects.toThrow(
      'No event source mapping of consumer reads topic "c"; its topics: a, b.',
    );
  });
});

describe('resumer requests', () => {
  it('refuses any other payload with a clear error, quoting none of it', () => {
    const usage = /The resumer takes its EventBridge schedule's "Scheduled Event", or \{"breaker":"open"\|"close"\|"status"\}/;
    const cases: Array<[unknown, RegExp]> = [
      [null, /^The payload is null\./],
      ['open', /^The payload is a string\./],
      [[1], /^The payload is an array\./],
      [{}, /^The payload has no "breaker" field\./],
      [{ breaker: 'reset' }, /^The payload has "breaker" "reset"\./],
      [{ breaker: 1 }, /^The payload has "breaker" a number\./],
      [{ breaker: 'open', topics: ['a'] }, /^Unknown fields "topics"\./],
      [{ breaker: 'open', topic: '' }, /^"topic" must be a topic name \(a non-empty string\), got an empty string\./],
      [{ breaker: 'open', topic: 7 }, /got a number/],
    ];
    for (const [payload, message] of cases) {
      expect(() => parseResumerRequest(payload)).toThrow(message);
      expect(() => parseResumerRequest(payload)).toThrow(usage);
    }
    expect(() => parseResumerRequest({ breaker: 'close', topic: 'x' })).not.toThrow();
  });

  it('fails with a ConfigurationError when BREAKER_FUNCTION_NAME or BREAKER_COOL_DOWN_SECONDS is missing', async () => {
    fakeLambda([]);
    captureOutput();
    vi.stubEnv('BREAKER_FUNCTION_NAME', '');
    await expect(tick()).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(/^BREAKER_FUNCTION_NAME is not set/),
    });
    vi.stubEnv('BREAKER_FUNCTION_NAME', 'consumer');
    vi.stubEnv('BREAKER_COOL_DOWN_SECONDS', '');
    await expect(tick()).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: expect.stringMatching(/^BREAKER_COOL_DOWN_SECONDS is not set/),
    });
  });
});
