import { spawnSync } from 'node:child_process';

// kcat (Debian's package, librdkafka inside): a third-party Kafka client to produce what real
// producers produce, and to read back what ours wrote. .ci/run installs it when missing.
function kcat(args: string[], input?: string) {
  const run = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (run.error) throw new Error(`kcat could not run (${run.error.message}): install it with \`apt-get install kcat\`, as .ci/run does.`);
  if (run.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return run;
}

/**
 * Makes sure kcat is there before the tests that use it: on a machine of this project's kind
 * the tests run as root with Debian's apt, so `npm test` installs it as `.ci/run` does; anywhere
 * else it says what to install.
 */
export function ensureKcat(): void {
  if (spawnSync('kcat', ['-V'], { encoding: 'utf8' }).status === 0) return;
  const root = process.getuid?.() === 0;
  const apt = spawnSync('apt-get', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!root || !apt)
    throw new Error(
      'The tests need kcat (a third-party Kafka client): install it (Debian/Ubuntu: `apt-get install kcat`; macOS: `brew install kcat`) and run the tests again.',
    );
  process.stderr.write('tests: installing kcat (apt-get install kcat), once per machine\n');
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', 'kcat'],
  ]) {
    const run = spawnSync('apt-get', args, {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      timeout: 300_000,
    });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  }
}

/** Produces one record per value with kcat, compressed with `codec`, each carrying `headers` in order. */
export function kcatProduce(
  brokers: string,
  topic: string,
  codec: string,
  values: string[],
  headers: ReadonlyArray<readonly [string, string]>,
) {
  kcat(['-P', '-b', brokers, '-t', topic, '-z', codec, ...headers.flatMap(([k, v]) => ['-H', `${k}=${v}`])], `${values.join('\n')}\n`);
}

/**
 * Reads a topic from the start to its end with kcat: each record's headers (`a=1,b=2,a=3`) and
 * value, and the codecs of the record batches it fetched (`uncompressed`, `gzip`, `lz4`, …, as
 * librdkafka names them in its debug log; one batch per fetch, so none is hidden behind another).
 */
export function kcatConsume(brokers: string, topic: string) {
  const { stdout, stderr } = kcat([
    '-C',
    '-b',
    brokers,
    '-t',
    topic,
    '-e',
    '-q',
    '-d',
    'msg',
    '-X',
    'fetch.message.max.bytes=1',
    '-f',
    '%h\t%s\n',
  ]);
  const records = stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [headers = '', value = ''] = line.split('\t');
      return { headers, value };
    });
  const codecs = new Set([...stderr.matchAll(/Enqueue \d+ message\(s\).*, (\w+)\)$/gm)].map((m) => m[1]!));
  return { records, codecs };
}
