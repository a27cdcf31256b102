import { spawnSync } from 'node:child_process';

// kcat (Debian's package, librdkafka inside): a third-party Kafka client to produce what real
// producers produce, and to read back what ours wrote. .ci/run installs it when missing.
function kcat(args: string[], input?: string): string {
  const run = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`kcat could not run (${run.error.message}): install it with \`apt-get install kcat\`, as .ci/run does.`);
  if (run.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run.stdout;
}

/** Produces one record per value with kcat, compressed with `codec`, each carrying `headers` in order. */
export function kcatProduce(brokers: string, topic: string, codec: string, values: string[], headers: ReadonlyArray<readonly [string, string]>) {
  kcat(['-P', '-b', brokers, '-t', topic, '-z', codec, ...headers.flatMap(([k, v]) => ['-H', `${k}=${v}`])], `${values.join('\n')}\n`);
}

/** Reads a topic from the start to its end with kcat: one `{ headers, value }` per record. */
export function kcatConsume(brokers: string, topic: string): Array<{ headers: string; value: string }> {
  const out = kcat(['-C', '-b', brokers, '-t', topic, '-e', '-q', '-f', '%h\t%s\n']);
  return out.split('\n').filter(Boolean).map((line) => {
    const [headers = '', value = ''] = line.split('\t');
    return { headers, value };
  });
}
