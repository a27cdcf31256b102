import { vi } from 'vitest';
import { LambdaClient } from '@aws-sdk/client-lambda';

export interface FakeMapping {
  UUID: string;
  EventSourceMappingArn?: string;
  Topics: string[];
  State: string;
  EventSourceArn?: string;
  SelfManagedEventSource?: { Endpoints: { KAFKA_BOOTSTRAP_SERVERS: string[] } };
  tags: Record<string, string>;
}

export interface LambdaCall {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

export const mappingArn = (uuid: string) => `arn:aws:lambda:us-east-1:000000000000:event-source-mapping:${uuid}`;

/** A mapping of function `consumer` on topic `topic` (the MSK cluster of test/support/kafka-event.ts), Enabled, untagged unless given. */
export function fakeMapping(uuid: string, topic: string, fields: Partial<FakeMapping> = {}): FakeMapping {
  return {
    UUID: uuid,
    EventSourceMappingArn: mappingArn(uuid),
    Topics: [topic],
    State: 'Enabled',
    EventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1234', // test/support/kafka-event.ts's
    tags: {},
    ...fields,
  };
}

/**
 * The Lambda API at the SDK client's `send`, over `mappings` (changed in place): the four
 * calls of the breaker, ListEventSourceMappings in pages of `pageSize`, Update switching the
 * State straight to Enabled/Disabled. Every call is recorded; `answer` may replace any call's
 * answer (or throw) by command name.
 */
export function fakeLambda(mappings: FakeMapping[], options: { pageSize?: number; answer?: (call: LambdaCall) => unknown } = {}) {
  const calls: LambdaCall[] = [];
  const pageSize = options.pageSize ?? 100;
  const byArn = (arn: unknown) => {
    const m = mappings.find((x) => x.EventSourceMappingArn === arn);
    if (!m)
      throw Object.assign(new Error(`no mapping ${String(arn)}`), {
        name: 'ResourceNotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
    return m;
  };
  const respond = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const call = { name: command.constructor.name.replace(/Command$/, ''), input: command.input };
    calls.push(call);
    const scripted = options.answer?.(call);
    if (scripted !== undefined) return scripted;
    switch (call.name) {
      case 'ListEventSourceMappings': {
        const start = Number(call.input.Marker ?? 0);
        const page = mappings.slice(start, start + pageSize);
        const next = start + pageSize < mappings.length ? { NextMarker: String(start + pageSize) } : {};
        return { EventSourceMappings: page.map(({ tags: _, ...m }) => ({ ...m })), ...next };
      }
      case 'ListTags':
        return { Tags: { ...byArn(call.input.Resource).tags } };
      case 'TagResource':
        Object.assign(byArn(call.input.Resource).tags, call.input.Tags);
        return {};
      case 'UpdateEventSourceMapping': {
        const m = mappings.find((x) => x.UUID === call.input.UUID)!;
        m.State = call.input.Enabled ? 'Enabled' : 'Disabled';
        return { UUID: m.UUID, State: m.State };
      }
      default:
        throw new Error(`the fake Lambda API does not serve ${call.name}`);
    }
  };
  vi.spyOn(LambdaClient.prototype, 'send').mockImplementation(respond as never);
  return { calls, named: (name: string) => calls.filter((c) => c.name === name).map((c) => c.input) };
}
