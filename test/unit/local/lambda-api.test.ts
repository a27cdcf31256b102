// The local Lambda API through the real SDK client (pointed at it by `endpoint`), over fake
// emulators: what the breaker's calls see. The emulator's own Enabled is in test/e2e/breaker.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListTagsCommand,
  TagResourceCommand,
  UpdateEventSourceMappingCommand,
  type UpdateEventSourceMappingCommandInput,
} from '@aws-sdk/client-lambda';
import { startLocalLambdaApi, type LocalLambdaApi, type ServedEmulator } from '../../../local/lambda-api.js';
import type { MappingState } from '../../../local/esm/emulator.js';
import { BREAKER_TAG } from '../../../src/contract/index.js';

/** An emulator whose disable or enable takes until `finish()` is called. */
class FakeEmulator implements ServedEmulator {
  enabled = true;
  #pending: (() => void) | undefined;
  readonly eventSourceArn = 'arn:aws:kafka:us-east-1:123456789012:cluster/local/x';
  constructor(
    readonly mappingUuid: string,
    readonly topic: string,
    readonly functionName = 'consumer',
  ) {}
  get state(): MappingState {
    if (this.enabled) return this.#pending ? 'Enabling' : 'Enabled';
    return this.#pending ? 'Disabling' : 'Disabled';
  }
  setEnabled(enabled: boolean): Promise<void> {
    this.enabled = enabled;
    return new Promise((resolve) => (this.#pending = resolve));
  }
  finish(): void {
    this.#pending?.();
    this.#pending = undefined;
  }
}

const arn = (uuid: string) => `arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${uuid}`;

describe('the local Lambda API', () => {
  let api: LocalLambdaApi;
  let lambda: LambdaClient;
  beforeEach(async () => {
    api = await startLocalLambdaApi();
    lambda = new LambdaClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    lambda.destroy();
    await api.stop();
  });

  it("lists a function's mappings as Lambda describes them (UUID, ARNs, topic, state), whatever form names the function", async () => {
    api.attach(new FakeEmulator('u-1', 'orders'));
    api.attach(new FakeEmulator('u-2', 'payments'));
    api.attach(new FakeEmulator('u-3', 'other', 'another-function'));
    for (const FunctionName of [
      'consumer',
      'arn:aws:lambda:us-east-1:000000000000:function:consumer',
      '000000000000:function:consumer:$LATEST',
    ]) {
      const { EventSourceMappings } = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName }));
      expect(EventSourceMappings).toEqual([
        {
          UUID: 'u-1',
          EventSourceMappingArn: arn('u-1'),
          EventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/local/x',
          FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:consumer',
          Topics: ['orders'],
          State: 'Enabled',
          StateTransitionReason: 'USER_INITIATED',
        },
        expect.objectContaining({ UUID: 'u-2', Topics: ['payments'] }),
      ]);
    }
  });

  it('pages with Marker/NextMarker', async () => {
    for (let i = 0; i < 3; i++) api.attach(new FakeEmulator(`u-${i}`, `t${i}`));
    const first = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'consumer', MaxItems: 2 }));
    expect(first.EventSourceMappings?.map((m) => m.UUID)).toEqual(['u-0', 'u-1']);
    const second = await lambda.send(
      new ListEventSourceMappingsCommand({ FunctionName: 'consumer', MaxItems: 2, Marker: first.NextMarker }),
    );
    expect(second.EventSourceMappings?.map((m) => m.UUID)).toEqual(['u-2']);
    expect(second.NextMarker).toBeUndefined();
  });

  it('disables and enables a mapping through Disabling/Enabling, refuses an update while one is under way, and counts pauses', async () => {
    const emulator = new FakeEmulator('u-1', 'orders');
    api.attach(emulator);
    const disabled = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: 'u-1', Enabled: false }));
    expect(disabled.State).toBe('Disabling');
    expect(emulator.enabled).toBe(false);
    // Lambda: ResourceInUseException while the mapping is in a transitional state.
    await expect(lambda.send(new UpdateEventSourceMappingCommand({ UUID: 'u-1', Enabled: true }))).rejects.toMatchObject({
      name: 'ResourceInUseException',
      $metadata: { httpStatusCode: 400 },
    });
    emulator.finish();
    const [listed] = (await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'consumer' }))).EventSourceMappings!;
    expect(listed!.State).toBe('Disabled');
    expect((await lambda.send(new UpdateEventSourceMappingCommand({ UUID: 'u-1', Enabled: true }))).State).toBe('Enabling');
    emulator.finish();
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: 'u-1', Enabled: true })); // already enabled: not a pause
    expect(api.pauses).toBe(1);
  });

  it('answers an update that is not Enabled with InvalidParameterValueException', async () => {
    api.attach(new FakeEmulator('u-1', 'orders'));
    const update = { UUID: 'u-1', BatchSize: 10 } as UpdateEventSourceMappingCommandInput;
    await expect(lambda.send(new UpdateEventSourceMappingCommand(update))).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
    });
  });

  it('keeps tags on the mapping, and a replacing emulator takes over its tags and its Enabled', async () => {
    const first = new FakeEmulator('u-1', 'orders');
    api.attach(first);
    await lambda.send(new TagResourceCommand({ Resource: arn('u-1'), Tags: { [BREAKER_TAG]: 'state=open opens=1 since=1 until=2' } }));
    await lambda.send(new UpdateEventSourceMappingCommand({ UUID: 'u-1', Enabled: false }));
    first.finish();
    const second = new FakeEmulator('u-1', 'orders');
    api.attach(second);
    expect(second.enabled).toBe(false);
    expect((await lambda.send(new ListTagsCommand({ Resource: arn('u-1') }))).Tags).toEqual({
      [BREAKER_TAG]: 'state=open opens=1 since=1 until=2',
    });
  });

  it('refuses a tag value Lambda refuses', async () => {
    api.attach(new FakeEmulator('u-1', 'orders'));
    await expect(
      lambda.send(new TagResourceCommand({ Resource: arn('u-1'), Tags: { [BREAKER_TAG]: 'state=open;opens=1' } })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValueException',
    });
  });

  it('answers an unknown function, mapping or ARN with ResourceNotFoundException (404), as Lambda does', async () => {
    api.attach(new FakeEmulator('u-1', 'orders'));
    const notFound = { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } };
    await expect(lambda.send(new ListEventSourceMappingsCommand({ FunctionName: 'nope' }))).rejects.toMatchObject(notFound);
    await expect(lambda.send(new UpdateEventSourceMappingCommand({ UUID: 'nope', Enabled: false }))).rejects.toMatchObject(notFound);
    await expect(lambda.send(new ListTagsCommand({ Resource: arn('nope') }))).rejects.toMatchObject(notFound);
    await expect(
      lambda.send(new TagResourceCommand({ Resource: 'arn:aws:lambda:us-east-1:000000000000:function:consumer', Tags: { a: 'b' } })),
    ).rejects.toMatchObject(notFound);
  });
});
