import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultPlan {
  /** Answer this many SendMessageBatch calls with a throttling error. */
  throttle: number;
  /** In this many SendMessageBatch calls, fail every other entry (SenderFault false). */
  partialFailures: number;
  /** Answer every call of this API (e.g. 'AmazonSQS.DeleteMessageBatch') with a 500. */
  breakApi?: string;
}

/**
 * An HTTP proxy in front of the SQS emulator that injects the failures real SQS produces:
 * throttled calls and SendMessageBatch entries reported in `Failed[]`.
 */
export async function startFaultProxy(target: string, plan: FaultPlan) {
  const upstream = new URL(target);
  const counts = { sendMessageBatch: 0, throttled: 0, failedEntries: 0 };
  const forward = (req: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }>((resolve, reject) => {
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, 'content-length': body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      out.on('error', reject);
      out.end(body);
    });
  const reply = (res: ServerResponse, status: number, headers: IncomingMessage['headers'], body: Buffer | string) => {
    const payload = Buffer.from(body);
    res.writeHead(status, { ...headers, 'content-length': payload.length });
    res.end(payload);
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    if (plan.breakApi && req.headers['x-amz-target'] === plan.breakApi) {
      return reply(res, 500, { 'content-type': 'application/x-amz-json-1.0' }, JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'injected outage' }));
    }
    if (req.headers['x-amz-target'] !== 'AmazonSQS.SendMessageBatch') {
      const r = await forward(req, body);
      return reply(res, r.status, r.headers, r.body);
    }
    counts.sendMessageBatch++;
    if (plan.throttle > 0) {
      plan.throttle--;
      counts.throttled++;
      return reply(res, 400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': 'ThrottlingException;Sender' },
        JSON.stringify({ __type: 'com.amazonaws.sqs#ThrottlingException', message: 'Rate exceeded' }));
    }
    let dropped: Array<{ Id: string }> = [];
    if (plan.partialFailures > 0) {
      plan.partialFailures--;
      const request = JSON.parse(body.toString()) as { Entries: Array<{ Id: string }> };
      dropped = request.Entries.filter((_, i) => i % 2 === 1);
      request.Entries = request.Entries.filter((_, i) => i % 2 === 0);
      body = Buffer.from(JSON.stringify(request));
    }
    const r = await forward(req, body);
    if (dropped.length === 0 || r.status !== 200) return reply(res, r.status, r.headers, r.body);
    counts.failedEntries += dropped.length;
    const response = JSON.parse(r.body.toString()) as { Successful?: unknown[]; Failed?: unknown[] };
    response.Failed = [...(response.Failed ?? []), ...dropped.map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'injected' }))];
    return reply(res, 200, r.headers, JSON.stringify(response));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
