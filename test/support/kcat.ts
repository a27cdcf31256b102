import { spawnSync } from 'node:child_process';

// kcat (Debian's package, librdkafka inside): a third-party Kafka client to produce what real
// producers produce, and to read back what ours wrote. .ci/run installs it when missing.
function kcat(args: string[], input?: string) {
  const run = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`kcat could not run (${run.error.message}): install it with \`apt-get install kcat\`, as .ci/run does.`);
  if (run.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run;
}

/** Produces one record per value with kcat, compressed with `codec`, each carrying `headers` in order. */
export function kcatProduce(brokers: string, topic: string, codec: string, values: string[], headers: ReadonlyArray<readonly [string, string]>) {
  kcat(['-P', '-b', brokers, '-t', topic, '-z', codec, ...headers.flatMap(([k, v]) => ['-H', `${k}=${v}`])], `${values.join('\n')}\n`);
}

/**
 * Reads a topic from the start to its end with kcat: each record's headers (`a=1,b=2,a=3`) and
 * value, and the codecs of the record batches it fetched (`uncompressed`, `gzip`, `lz4`, …, as
 * librdkafka names them in its debug log; one batch per fetch, so none is hidden behind another).
 */
export function kcatConsume(brokers: string, topic: string) {
  const { stdout, stderr } = kcat(['-C', '-b', brokers, '-t', topic, '-e', '-q', '-d', 'msg', '-X', 'fetch.message.max.bytes=1', '-f', '%h\t%s\n']);
  const records = stdout.split('\n').filter(Boolean).map((line) => {
    const [headers = '', value = ''] = line.split('\t');
    return { headers, value };
  });
  const codecs = new Set([...stderr.matchAll(/Enqueue \d+ message\(s\).*, (\w+)\)$/gm)].map((m) => m[1]!));
  return { records, codecs };
}
