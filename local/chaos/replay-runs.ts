import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ReplaySummary } from '../../src/replay/replayer.js';

// The chaos run's replay: the replay function in a child process, which the run kills once
// between its produce and its delete.

const REPLAY_TIMEOUT_S = 60;

/** The replay function, one invocation per child process (`npm run invoke -- replay`), so that it can be killed. */
export class ReplayRuns {
  child: ChildProcess | undefined;
  runs = 0;
  /** Receipt handles the replay received in the current run. */
  readonly #received = new Set<string>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    proxy: { plan: { observe?: (api: string, body: Buffer) => void } },
  ) {
    proxy.plan.observe = (api, body) => {
      if (api !== 'AmazonSQS.ReceiveMessage') return;
      for (const m of (JSON.parse(body.toString()) as { Messages?: Array<{ ReceiptHandle: string }> }).Messages ?? [])
        this.#received.add(m.ReceiptHandle);
    };
  }

  /** One invocation; its summary, or undefined when it failed or was killed. */
  async run(): Promise<ReplaySummary | undefined> {
    this.runs++;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('../invoke.ts', import.meta.url)),
        'replay',
        '--payload',
        '{"maxMessages":10000}',
        '--timeout',
        String(REPLAY_TIMEOUT_S),
      ],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    this.child = child;
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), (REPLAY_TIMEOUT_S + 30) * 1_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(killer);
    this.child = undefined;
    await this.#releaseReceived();
    if (code !== 0) return undefined;
    const last = out.trim().split('\n').at(-1) ?? '{}';
    return (JSON.parse(last) as { response?: ReplaySummary }).response;
  }

  // What a dead (or failed) replay held stays invisible for its visibility timeout (minutes);
  // its end is fast-forwarded here, so the next run and the final count see those messages.
  async #releaseReceived() {
    const handles = [...this.#received];
    this.#received.clear();
    for (let i = 0; i < handles.length; i += 10) {
      const Entries = handles.slice(i, i + 10).map((ReceiptHandle, j) => ({ Id: String(j), ReceiptHandle, VisibilityTimeout: 0 }));
      await this.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.queueUrl, Entries })).catch(() => undefined); // deleted ones fail: fine
    }
  }
}
