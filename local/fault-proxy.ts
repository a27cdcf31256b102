// An HTTP proxy in front of the SQS/S3 emulator that injects the failures real SQS and S3
// produce: throttled calls, 5xx answers, batch entries reported in `Failed[]`, slow answers.
// The tests and `npm run chaos` both put it between the functions and the emulator.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocally } from './local-server.js';

/** A call's name: the SQS JSON protocol's `x-amz-target` (e.g. 'AmazonSQS.SendMessageBatch'), else `S3.<METHOD>`. */
export type ApiName = string;

/**
 * What to inject; read on every call, so it may be changed while the proxy runs. Each count is
 * a budget: that many matching calls get the fault, then it is spent.
 */
export interface FaultPlan {
  /** Answer this many calls with a throttling error (SQS `ThrottlingException`, S3 503 `SlowDown`). @default 0 */
  throttle?: number;
  /** Answer this many calls with a 500 `InternalError`, forwarding nothing. @default 0 */
  serverErrors?: number;
  /** In this many SQS batch calls, fail every other entry (in `Failed[]`, SenderFault false). @default 0 */
  partialFailures?: number;
  /** Answer this many calls `slowMs` late (the call itself is forwarded at once). @default 0 */
  slow?: number;
  /** @default 2000 */
  slowMs?: number;
  /** The calls the budgets above apply to. @default ['AmazonSQS.SendMessageBatch'] */
  apis?: readonly ApiName[] | 'all';
  /** Answer every call of this API with a 500, whatever the budgets. @default none */
  breakApi?: ApiName;
  /** Called before a call is forwarded; answering true drops it unanswered (the caller's connection is cut). */
  intercept?: (api: ApiName, body: Buffer) => boolean | Promise<boolean>;
  /** Called with every answer the emulator gave (after any injected change). */
  observe?: (api: ApiName, response: Buffer) => void;
}

/** What was injected so far. */
export interface FaultCounts {
  sendMessageBatch: number;
  throttled: number;
  serverErrors: number;
  failedEntries: number;
  slowAnswers: number;
  dropped: number;
}

export interface FaultProxy {
  readonly endpoint: string;
  readonly counts: FaultCounts;
  readonly plan: FaultPlan;
  stop(): Promise<void>;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

const sqsError = (status: number, type: string, message: string, sender: boolean): Answer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${type};${sender ? 'Sender' : 'Receiver'}` },
  body: Buffer.from(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message })),
});
const s3Error = (status: number, code: string): Answer => ({
  status,
  headers: { 'content-type': 'application/xml' },
  body: Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`),
});

export async function startFaultProxy(target: string, plan: FaultPlan = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const counts: FaultCounts = { sendMessageBatch: 0, throttled: 0, serverErrors: 0, failedEntries: 0, slowAnswers: 0, dropped: 0 };
  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<Answer>((resolve, reject) => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, 'content-length': body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  const reply = (res: ServerResponse, { status, headers, body }: Answer) => {
    res.writeHead(status, { ...headers, 'content-length': body.length });
    res.end(body);
  };
  /** Spends one unit of a budget on this call, if the plan has one left for it. */
  const take = (budget: 'throttle' | 'serverErrors' | 'partialFailures' | 'slow', api: ApiName) => {
    const apis = plan.apis ?? ['AmazonSQS.SendMessageBatch'];
    if (!(plan[budget]! > 0) || (apis !== 'all' && !apis.includes(api))) return false;
    plan[budget]!--;
    return true;
  };

  const answer = async (req: IncomingMessage, api: ApiName, body: Buffer): Promise<Answer | undefined> => {
    const sqs = api.startsWith('AmazonSQS.');
    if (api === 'AmazonSQS.SendMessageBatch') counts.sendMessageBatch++;
    if (plan.breakApi === api) return sqsError(500, 'InternalError', 'injected outage', false);
    if (take('throttle', api)) {
      counts.throttled++;
      return sqs ? sqsError(400, 'ThrottlingException', 'Rate exceeded', true) : s3Error(503, 'SlowDown');
    }
    if (take('serverErrors', api)) {
      counts.serverErrors++;
      return sqs ? sqsError(500, 'InternalError', 'injected', false) : s3Error(500, 'InternalError');
    }
    if (plan.intercept && (await plan.intercept(api, body))) {
      counts.dropped++;
      return undefined;
    }
    let dropped: Array<{ Id: string }> = [];
    if (sqs && api.endsWith('Batch') && take('partialFailures', api)) {
      const batch = JSON.parse(body.toString()) as { Entries: Array<{ Id: string }> };
      dropped = batch.Entries.filter((_, i) => i % 2 === 1);
      batch.Entries = batch.Entries.filter((_, i) => i % 2 === 0);
      body = Buffer.from(JSON.stringify(batch));
    }
    const slow = take('slow', api);
    let r = await forward(req, body);
    if (dropped.length > 0 && r.status === 200) {
      counts.failedEntries += dropped.length;
      const response = JSON.parse(r.body.toString()) as { Successful?: unknown[]; Failed?: unknown[] };
      response.Failed = [
        ...(response.Failed ?? []),
        ...dropped.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'injected' })),
      ];
      r = { ...r, body: Buffer.from(JSON.stringify(response)) };
    }
    if (slow) {
      counts.slowAnswers++;
      await new Promise((resolve) => setTimeout(resolve, plan.slowMs ?? 2_000));
    }
    plan.observe?.(api, r.body);
    return r;
  };

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = req.headers['x-amz-target'];
    const api = typeof target === 'string' ? target : `S3.${req.method}`;
    try {
      const r = await answer(req, api, Buffer.concat(chunks));
      if (r) reply(res, r);
      else res.destroy();
    } catch {
      res.destroy(); // the emulator could not be reached: so cannot the caller
    }
  });
  const { endpoint, stop } = await listenLocally(server);
  return { endpoint, counts, plan, stop };
}
