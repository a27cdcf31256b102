// The local Lambda API: the calls the outage breaker makes (ListEventSourceMappings,
// UpdateEventSourceMapping, ListTags, TagResource), served over the running event source
// mapping emulators in Lambda's REST-JSON protocol, so that the runtime's own Lambda client,
// pointed here by AWS_ENDPOINT_URL_LAMBDA, pauses and resumes the local mapping as it would a
// deployed one. Lambda API reference: https://docs.aws.amazon.com/lambda/latest/api/API_Operations.html
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';
import type { EventSourceMappingEmulator } from './esm/emulator.js';
import { localFunctionArn } from './esm/lambda-context.js';

export interface LocalLambdaApi {
  /** The value for `AWS_ENDPOINT_URL_LAMBDA`. */
  readonly endpoint: string;
  /** Times a mapping was disabled (UpdateEventSourceMapping from Enabled true to false): the chaos run's `pauses`. */
  readonly pauses: number;
  /**
   * Serves this emulator's mapping, in place of an earlier emulator of the same mapping (a
   * restarted poller), whose `Enabled` and tags it takes over. Call it before `emulator.start()`.
   */
  attach(emulator: ServedEmulator): void;
  stop(): Promise<void>;
}

/** What the API reads and sets on an emulator. */
export type ServedEmulator = Pick<
  EventSourceMappingEmulator,
  'mappingUuid' | 'topic' | 'functionName' | 'eventSourceArn' | 'state' | 'enabled' | 'setEnabled'
>;

interface Mapping {
  emulator: ServedEmulator;
  readonly tags: Map<string, string>;
}

/** An error in Lambda's shape: the SDK takes its name from `x-amzn-errortype`. */
class LambdaApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const LIST_MAPPINGS = '/2015-03-31/event-source-mappings';
const TAGS = '/2017-03-31/tags/';
/** ListEventSourceMappings' page size when `MaxItems` is not given (its documented default and maximum). */
const MAX_ITEMS = 100;
const MAPPING_ARN_PREFIX = 'arn:aws:lambda:us-east-1:000000000000:event-source-mapping:';
/**
 * Lambda's tag rules (https://docs.aws.amazon.com/lambda/latest/dg/configuration-tags.html):
 * keys up to 128 characters, values up to 256, of letters, digits, spaces and `_ . : / = + - @`.
 */
const TAG_CHARACTERS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const mappingArn = (uuid: string) => `${MAPPING_ARN_PREFIX}${uuid}`;

/** A function as the API names it (name, ARN or partial ARN, with or without a version or alias) → its name. */
function functionNameOf(given: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(given);
  return match ? match[1]! : given.split(':')[0]!;
}

/** Starts the local Lambda API on 127.0.0.1 (`port` 0: a free one). */
export async function startLocalLambdaApi(port = 0): Promise<LocalLambdaApi> {
  const mappings = new Map<string, Mapping>();
  let pauses = 0;

  const configuration = ({ emulator }: Mapping) => ({
    UUID: emulator.mappingUuid,
    EventSourceMappingArn: mappingArn(emulator.mappingUuid),
    EventSourceArn: emulator.eventSourceArn,
    FunctionArn: localFunctionArn(emulator.functionName),
    Topics: [emulator.topic],
    State: emulator.state,
    StateTransitionReason: 'USER_INITIATED',
  });

  const mappingByArn = (resource: string) => {
    const mapping = resource.startsWith(MAPPING_ARN_PREFIX) ? mappings.get(resource.slice(MAPPING_ARN_PREFIX.length)) : undefined;
    if (!mapping)
      throw new LambdaApiError(
        404,
        'ResourceNotFoundException',
        `The resource you requested does not exist: ${resource} (the local Lambda API serves the tags of the local event source mappings only).`,
      );
    return mapping;
  };

  const listMappings = (query: URLSearchParams) => {
    const functionName = query.get('FunctionName');
    const eventSourceArn = query.get('EventSourceArn');
    let found = [...mappings.values()];
    if (functionName) {
      const name = functionNameOf(functionName);
      found = found.filter((m) => m.emulator.functionName === name);
      if (found.length === 0) throw new LambdaApiError(404, 'ResourceNotFoundException', `Function not found: ${localFunctionArn(name)}`);
    }
    if (eventSourceArn) found = found.filter((m) => m.emulator.eventSourceArn === eventSourceArn);
    const from = Number(query.get('Marker') ?? 0);
    const size = Math.min(Number(query.get('MaxItems') ?? MAX_ITEMS), MAX_ITEMS);
    const page = found.slice(from, from + size);
    return {
      EventSourceMappings: page.map(configuration),
      ...(from + size < found.length ? { NextMarker: String(from + size) } : {}),
    };
  };

  const updateMapping = (uuid: string, body: Record<string, unknown>) => {
    const mapping = mappings.get(uuid);
    if (!mapping)
      throw new LambdaApiError(
        404,
        'ResourceNotFoundException',
        `The resource you requested does not exist: event source mapping ${uuid}.`,
      );
    const unsupported = Object.keys(body).filter((k) => k !== 'Enabled' && k !== 'FunctionName');
    if (unsupported.length > 0 || typeof body.Enabled !== 'boolean')
      throw new LambdaApiError(
        400,
        'InvalidParameterValueException',
        `The local Lambda API updates a mapping's Enabled (true or false) only; got ${Object.keys(body).join(', ') || 'nothing'}.`,
      );
    const { emulator } = mapping;
    // Lambda refuses an update while the mapping is still enabling or disabling.
    if (emulator.state === 'Enabling' || emulator.state === 'Disabling')
      throw new LambdaApiError(
        400,
        'ResourceInUseException',
        `Cannot update the event source mapping ${uuid}: it is ${emulator.state}; try again once it is Enabled or Disabled.`,
      );
    if (emulator.enabled && !body.Enabled) pauses++;
    // Accepted (202): the mapping is Disabling or Enabling until its pollers stopped or started.
    emulator.setEnabled(body.Enabled).catch((error: Error) => {
      process.stderr.write(`local Lambda API: could not set Enabled=${String(body.Enabled)} on mapping ${uuid}: ${error.message}\n`);
    });
    return configuration(mapping);
  };

  const tagResource = (mapping: Mapping, body: Record<string, unknown>) => {
    const tags = body.Tags;
    if (typeof tags !== 'object' || tags === null) throw new LambdaApiError(400, 'InvalidParameterValueException', 'Tags is required.');
    for (const [key, value] of Object.entries(tags as Record<string, unknown>)) {
      const valid =
        typeof value === 'string' &&
        key.length >= 1 &&
        key.length <= 128 &&
        value.length <= 256 &&
        TAG_CHARACTERS.test(key) &&
        TAG_CHARACTERS.test(value);
      if (!valid)
        throw new LambdaApiError(
          400,
          'InvalidParameterValueException',
          `The tag ${key} is not valid: keys of 1 to 128 and values of up to 256 letters, digits, spaces and _ . : / = + - @.`,
        );
    }
    for (const [key, value] of Object.entries(tags as Record<string, string>)) mapping.tags.set(key, value);
  };

  const route = async (request: IncomingMessage): Promise<{ status: number; body?: unknown }> => {
    const url = new URL(request.url ?? '/', 'http://local');
    const path = url.pathname;
    if (request.method === 'GET' && path === LIST_MAPPINGS) return { status: 200, body: listMappings(url.searchParams) };
    if (request.method === 'PUT' && path.startsWith(`${LIST_MAPPINGS}/`))
      return { status: 202, body: updateMapping(decodeURIComponent(path.slice(LIST_MAPPINGS.length + 1)), await jsonBody(request)) };
    if (path.startsWith(TAGS)) {
      const mapping = mappingByArn(decodeURIComponent(path.slice(TAGS.length)));
      if (request.method === 'GET') return { status: 200, body: { Tags: Object.fromEntries(mapping.tags) } };
      if (request.method === 'POST') {
        tagResource(mapping, await jsonBody(request));
        return { status: 204 };
      }
    }
    throw new LambdaApiError(
      400,
      'UnknownOperationException',
      `${request.method} ${path} is not served: the local Lambda API serves ListEventSourceMappings, UpdateEventSourceMapping, ListTags and TagResource.`,
    );
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    route(request).then(
      ({ status, body }) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(body === undefined ? '' : JSON.stringify(body));
      },
      (error: unknown) => {
        const e = error instanceof LambdaApiError ? error : new LambdaApiError(500, 'ServiceException', (error as Error).message);
        response.writeHead(e.status, { 'content-type': 'application/json', 'x-amzn-errortype': e.type });
        response.end(JSON.stringify({ Type: e.status >= 500 ? 'Service' : 'User', Message: e.message }));
      },
    );
  });
  const { endpoint, stop } = await listenLocally(server, port);

  return {
    endpoint,
    get pauses() {
      return pauses;
    },
    attach(emulator) {
      const earlier = mappings.get(emulator.mappingUuid);
      if (earlier && !earlier.emulator.enabled) void emulator.setEnabled(false);
      mappings.set(emulator.mappingUuid, { emulator, tags: earlier?.tags ?? new Map() });
    },
    stop,
  };
}

async function jsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  try {
    const body: unknown = text ? JSON.parse(text) : {};
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new LambdaApiError(400, 'InvalidRequestContentException', 'The request body must be a JSON object.');
}
