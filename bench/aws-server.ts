// The embedded SQS/S3 (or DynamoDB) in a process of its own, as the real services are remote: the
// handler under test does not share its CPU with the server. Answers 'requests' with the counts by API.
// With `rttMs`, every answer comes that much later (the fault proxy's slow answers), as from
// SQS in the same region as a Lambda function, instead of loopback's fraction of a millisecond.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startFaultProxy } from '../local/fault-proxy.js';

export interface RemoteAws {
  readonly endpoint: string;
  /** Requests served so far, by API (`AmazonSQS.SendMessageBatch`, `DynamoDB_20120810.UpdateItem`, …). */
  requests(): Promise<Record<string, number>>;
  stop(): void;
}

type Message = { endpoint: string } | { requests: Record<string, number> };

/** Which emulator: fauxqs (SQS and S3) or dynalite (DynamoDB). */
export type RemoteService = 'sqs-s3' | 'dynamodb';

export async function startRemoteAws(options: { rttMs?: number; service?: RemoteService } = {}): Promise<RemoteAws> {
  const child = fork(fileURLToPath(import.meta.url), [String(options.rttMs ?? 0), options.service ?? 'sqs-s3'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Message>((resolve, reject) => {
      const exited = (code: number | null) => reject(new Error(`the ${options.service ?? 'sqs-s3'} emulator exited (${code})`));
      child.once('exit', exited);
      child.once('message', (m) => {
        child.off('exit', exited);
        resolve(m as Message);
      });
    });
  const ready = await next();
  if (!('endpoint' in ready)) throw new Error(`the ${options.service ?? 'sqs-s3'} emulator did not say where it listens`);
  return {
    endpoint: ready.endpoint,
    requests: async () => {
      const answer = next();
      child.send('requests');
      const m = await answer;
      return 'requests' in m ? m.requests : {};
    },
    stop: () => void child.kill(),
  };
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  // Only the emulator asked for is loaded (fauxqs needs Node 22.5+'s node:sqlite, dynalite does not).
  const aws =
    process.argv[3] === 'dynamodb'
      ? await (await import('../local/dynamodb-emulator.js')).startEmbeddedDynamoDb()
      : await (await import('../local/aws-emulator.js')).startEmbeddedAws();
  const rttMs = Number(process.argv[2]);
  const proxy = rttMs > 0 ? await startFaultProxy(aws.endpoint, { slow: Infinity, slowMs: rttMs, apis: 'all' }) : undefined;
  process.on('message', () => process.send!({ requests: Object.fromEntries(aws.requests) }));
  process.on('disconnect', () => process.exit(0));
  process.send({ endpoint: proxy?.endpoint ?? aws.endpoint });
}
