import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const cacheDir = process.env.KAFKA_MOCK_CACHE || path.resolve(here, '../../.cache/kafka-mock');

/** A running embedded Kafka cluster (librdkafka's mock cluster) on 127.0.0.1. */
export interface EmbeddedKafka {
  /** Bootstrap servers, `host:port` each. */
  readonly brokers: string[];
  /** PID of the broker process, so a harness can kill it if all else fails. */
  readonly pid: number;
  createTopic(name: string, partitions: number): Promise<void>;
  /** Fault injection: a broker stops answering until {@link setBrokerUp}. Ids start at 1. */
  setBrokerDown(id: number): Promise<void>;
  setBrokerUp(id: number): Promise<void>;
  /** Fault injection: adds `ms` of round-trip latency to a broker's answers (0 removes it). */
  setBrokerRtt(id: number, ms: number): Promise<void>;
  stop(): Promise<void>;
}

export interface EmbeddedKafkaOptions {
  /** Number of brokers. @default 1 */
  readonly brokers?: number;
  /** Topics to create, name → partition count. @default {} */
  readonly topics?: Record<string, number>;
  /**
   * The brokers' `group.initial.rebalance.delay.ms`: how long a group's first member waits for
   * others before partitions are assigned. Kafka's default (MSK's too) is 3000; development
   * setups use 0, and so does this cluster unless told otherwise. @default 0
   */
  readonly initialRebalanceDelayMs?: number;
}

/** Builds the broker binary if this machine has not yet (cached), and returns its path. */
export function ensureKafkaMockBinary(): string {
  const build = spawnSync('bash', [path.join(here, 'build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) {
    throw new Error('Could not build the embedded Kafka broker (see the messages above), or set KAFKA_BROKERS to use a running cluster.');
  }
  return path.join(cacheDir, 'kafka-mock');
}

export async function startEmbeddedKafka(options: EmbeddedKafkaOptions = {}): Promise<EmbeddedKafka> {
  const args = ['--brokers', String(options.brokers ?? 1), '--initial-rebalance-delay-ms', String(options.initialRebalanceDelayMs ?? 0)];
  for (const [name, partitions] of Object.entries(options.topics ?? {})) args.push('--topic', `${name}:${partitions}`);
  const child = spawn(ensureKafkaMockBinary(), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const replies: Array<(line: string) => void> = [];
  let exited = false;

  const bootstrap = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`embedded Kafka exited (code ${code}) before it was ready`)));
    lines.once('line', (line) => {
      if (line.startsWith('BOOTSTRAP=')) resolve(line.slice('BOOTSTRAP='.length));
      else reject(new Error(`embedded Kafka printed an unexpected first line: ${line}`));
    });
  });
  child.removeAllListeners('exit');
  child.once('exit', () => {
    exited = true;
  });
  lines.on('line', (line) => replies.shift()?.(line));

  // Commands are answered in order, one line each.
  let queue = Promise.resolve();
  const command = (text: string): Promise<void> => {
    const run = queue.then(
      () =>
        new Promise<void>((resolve, reject) => {
          if (exited) return reject(new Error('embedded Kafka is not running'));
          replies.push((line) => (line === 'OK' ? resolve() : reject(new Error(`embedded Kafka: ${text}: ${line}`))));
          child.stdin.write(`${text}\n`);
        }),
    );
    queue = run.catch(() => undefined);
    return run;
  };

  return {
    brokers: bootstrap.split(','),
    pid: child.pid!,
    createTopic: (name, partitions) => command(`topic ${name} ${partitions}`),
    setBrokerDown: (id) => command(`down ${id}`),
    setBrokerUp: (id) => command(`up ${id}`),
    setBrokerRtt: (id, ms) => command(`rtt ${id} ${ms}`),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.stdin.end(); // EOF is the broker's signal to shut down
      }),
  };
}
