// The package as a user gets it: `npm pack`, the tarball installed into a fresh CDK app outside
// the repository (with aws-cdk-lib, constructs, esbuild and tsx, and the local tools' fauxqs, from
// the npm cache when it has them), an ES-module app and handler written against the published
// entry points, synthesized, and the handler run on the local loop (`local …`).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CFN_LINT_INSTALL_HINT, cfnLintInstalled, lintTemplateFiles } from '../support/cfn-lint.js';
import { docFiles } from '../support/doc-files.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
  name: string;
  devDependencies: Record<string, string>;
};
const name = manifest.name;
// The pinned Node 24 and the repository's tools first; npm itself is the system's.
const env = { ...process.env, PATH: `${path.join(repo, 'node_modules/.bin')}${path.delimiter}${process.env.PATH}` };
const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The bundle Lambda runs is a handler's; the acceptance bound, well above what it needs. */
const MAX_HANDLER_ASSET_BYTES = 100 * 1024;
const USER_MARKER = 'user-handler: payment accepted';
const EXAMPLE_MARKER = 'simulated permanent failure'; // in app/consumer only

const handlerSource = `import { kafkaConsumer, NonRetryableError, type KafkaRecord } from '${name}/runtime';

interface Payment { readonly id: string; readonly cents: number }

export const handler = kafkaConsumer<Payment>({
  async processRecord(record: KafkaRecord<Payment>) {
    if (record.value.cents < 0) throw new NonRetryableError(\`payment \${record.value.id}: negative amount\`);
    console.log('${USER_MARKER}', record.value.id);
  },
});
`;

const appSource = `import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { DeadLetterReplay, KafkaConsumer } from '${name}';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Payments', { env: { account: '123456789012', region: 'us-east-1' } });
const consumer = new KafkaConsumer(stack, 'Consumer', {
  cluster: { kind: 'msk', clusterArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/payments/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d-1', bootstrapServers: ['b-1.payments:9098'] },
  topics: ['payments'],
  consumerGroupId: 'payments',
  entry: fileURLToPath(new URL('./handler.ts', import.meta.url)),
});
new DeadLetterReplay(stack, 'Replay', { consumer });
app.synth();
`;

const decodersSource = `import { avroDeserializer } from '${name}/runtime/avro';
import { protobufDeserializer } from '${name}/runtime/protobuf';

export const avro = avroDeserializer<{ id: string }>({ schema: { type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }] }, wireFormat: 'confluent' });
export const protobuf = protobufDeserializer<number>({ type: { decode: (data: Uint8Array) => data.length }, wireFormat: 'glue' });
`;

let scratch: string;
let app: string;
let packed: { filename: string; size: number; files: Array<{ path: string }> };

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), `${name}-package-`));
  const out = run('npm', ['pack', '--json', '--pack-destination', scratch], repo);
  [packed] = JSON.parse(out.slice(out.search(/^\[/m))) as [typeof packed]; // after the prepack and prepare scripts' output
  app = path.join(scratch, 'app');
  mkdirSync(app);
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }));
  // The app's tools, and the local tools' one install line (README: `npm install --save-dev fauxqs dynalite tsx`).
  const tools = ['aws-cdk-lib', 'constructs', 'esbuild', 'tsx', '@types/node', 'fauxqs', 'dynalite'].map(
    (tool) => `${tool}@${manifest.devDependencies[tool]}`,
  );
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', path.join(scratch, packed.filename), ...tools], app);
  writeFileSync(path.join(app, 'handler.ts'), handlerSource);
  writeFileSync(path.join(app, 'app.ts'), appSource);
  run('node', ['--import', 'tsx', 'app.ts'], app);
}, 300_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  if (!cfnLintInstalled()) console.warn(`${CFN_LINT_INSTALL_HINT}. Skipped: "synthesizes a template cfn-lint accepts".`);
});

/** The staged asset directory of the stack's function whose logical id starts with `prefix`. */
function assetOf(prefix: string): string {
  const template = JSON.parse(readFileSync(path.join(app, 'cdk.out/Payments.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>;
  };
  const [, fn] = Object.entries(template.Resources).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix)) ?? [];
  const key = fn?.Properties.Code?.S3Key;
  if (!key) throw new Error(`no function ${prefix}… with an asset in the template`);
  return path.join(app, 'cdk.out', `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
}

describe(`${name} installed from its tarball`, () => {
  it('ships compiled ES modules, their declarations, the bundled replay and resumer handlers and local tools (with the broker build), nothing of the repository else', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/constructs/index.js',
        'dist/constructs/index.d.ts',
        'dist/runtime/index.js',
        'dist/runtime/index.d.ts',
        'dist/replay/index.cjs',
        'dist/breaker/resumer.cjs',
        'dist/runtime/avro.js',
        'dist/runtime/avro.d.ts',
        'dist/runtime/protobuf.js',
        'dist/runtime/protobuf.d.ts',
        'dist/runtime/idempotency/index.js',
        'dist/runtime/idempotency/index.d.ts',
        'dist/local/commands.js',
        'dist/local/sandbox-worker.js',
        'dist/local/build.sh',
        'dist/local/kafka-mock.c',
        'dist/local/librdkafka-mock.patch',
      ]),
    );
    expect(files.filter((f) => !/^(dist\/|package\.json$|README\.md$|LICENSE)/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/consumer/'))).toEqual([]); // the example stays in the repository
  });

  it("bundles the user's handler, not the example consumer, into a small asset", () => {
    const asset = assetOf('ConsumerFunction');
    const code = readFileSync(asset, 'utf8');
    expect(code).toContain(USER_MARKER);
    expect(code).not.toContain(EXAMPLE_MARKER);
    expect(statSync(asset).size).toBeLessThanOrEqual(MAX_HANDLER_ASSET_BYTES);
  });

  it('brings the replay function along, with the kafkajs the repository patches (headers in record order)', () => {
    expect(readFileSync(assetOf('ReplayFunction'), 'utf8')).toContain('orderedHeaders');
  });

  it('type-checks a user app against the published declarations (nodenext, no skipLibCheck)', () => {
    writeFileSync(path.join(app, 'decoders.ts'), decodersSource); // not imported by the handler: its bundle stays without avsc
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        include: ['*.ts'],
      }),
    );
    expect(() => run(path.join(repo, 'node_modules/.bin/tsc'), ['-p', '.'], app)).not.toThrow();
  }, 120_000);

  // The user's template, checked by AWS's CloudFormation linter as the repository's own are.
  it.skipIf(!cfnLintInstalled())('synthesizes a template cfn-lint accepts', () => {
    expect(lintTemplateFiles([path.join(app, 'cdk.out/Payments.template.json')])).toEqual([]);
  });

  it('installs the dlq command (npx kafka-lambda-consumers), which runs the bundled replay handler with --local', () => {
    expect(run('npx', ['--no-install', name, 'dlq', 'replay', '--help'], app)).toContain(`Usage: ${name} dlq replay [options]`);
    // --local against nothing listening: the bundle loads and runs, its receives fail, the report says so.
    const nowhere = {
      KAFKA_BROKERS: '127.0.0.1:9',
      DLQ_URL: 'http://127.0.0.1:9/000000000000/dlq',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      REPLAY_ALLOWED_TOPICS: 't',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    const report = spawnSync('npx', ['--no-install', name, 'dlq', 'report', '--local', '--json'], {
      cwd: app,
      env: { ...env, ...nowhere },
      encoding: 'utf8',
    });
    expect(report.status, report.stderr).toBe(1); // it could not read the queue
    expect(JSON.parse(report.stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({
      source: 'dlq',
      read: 0,
      reasons: expect.arrayContaining([expect.stringMatching(/^a receiver stopped: connect ECONNREFUSED/)]),
    });
  }, 120_000);

  // The README's short app (its alarms notify no one) and the getting-started one (-c alarmTopicArn).
  it.each([
    ['README.md', [], undefined],
    [
      'docs/getting-started.md',
      ['-c', 'alarmTopicArn=arn:aws:sns:us-east-1:123456789012:payments-alarms'],
      ['arn:aws:sns:us-east-1:123456789012:payments-alarms'],
    ],
  ])(
    'synthesizes the app as %s gives it (cdk.json, app.ts, the handler) with npx cdk synth, without a warning',
    (page, context, alarmActions) => {
      const dir = path.join(app, page.replace(/\W/g, '-')); // the app's package.json ("type": "module") and node_modules serve it
      for (const [file, code] of docFiles(page)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), code);
      }
      const synth = spawnSync('cdk', ['synth', '--quiet', '--no-notices', ...context], { cwd: dir, env, encoding: 'utf8' });
      expect(synth.status, synth.stderr).toBe(0);
      expect(synth.stderr).not.toMatch(/warning/i);
      const template = JSON.parse(readFileSync(path.join(dir, 'cdk.out/Payments.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
      const resources = Object.values(template.Resources);
      expect(resources.filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping')).toHaveLength(1);
      expect(resources.some((r) => r.Type === 'AWS::EC2::VPCEndpoint')).toBe(true); // the cluster's VPC reaches SQS and S3
      const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
      expect(alarms.length).toBeGreaterThan(0);
      for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual(alarmActions);
    },
    180_000,
  );

  it('lets plain Node import the runtime', () => {
    const out = run(
      'node',
      ['-e', `import('${name}/runtime').then((m) => console.log(typeof m.kafkaConsumer, typeof m.KafkaConsumersError))`],
      app,
    );
    expect(out.trim()).toBe('function function');
  });

  it('lets plain Node import the Avro and Protobuf deserializers and decode with them', () => {
    const avro = `import('${name}/runtime/avro').then((m) => m.avroDeserializer({ schema: 'string', wireFormat: 'raw' })(Buffer.from([4, 104, 105]), {}, 'value'))`;
    const protobuf = `import('${name}/runtime/protobuf').then((m) => m.protobufDeserializer({ type: { decode: (d) => d.length }, wireFormat: 'raw' })(Buffer.from([1, 2]), {}, 'value'))`;
    const out = run('node', ['-e', `Promise.all([${avro}, ${protobuf}]).then((values) => console.log(values.join(' ')))`], app);
    expect(out.trim()).toBe('hi 2');
  });
});

// The local loop as the README tells a user to run it, through the installed command: the
// services in the foreground, the handler invoked with a record built from flags, records
// produced and consumed by the mapping emulator, read back, and everything stopped.
describe(`${name}'s local commands, installed from its tarball`, () => {
  const bin = () => path.join(app, 'node_modules/.bin', name);
  // The broker built by the repository (same sources, same stamp): no second build of a minute.
  const localEnv = { ...env, KAFKA_MOCK_CACHE: path.join(repo, '.cache/kafka-mock'), KAFKAJS_NO_PARTITIONER_WARNING: '1' };
  const cli = (args: string[], extra: Record<string, string>) =>
    spawnSync(bin(), args, { cwd: app, env: { ...localEnv, ...extra }, encoding: 'utf8', timeout: 120_000 });
  const lastLine = (stdout: string) => JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;

  /** Starts a foreground command; resolves once its output matches `ready`. */
  const start = (args: string[], extra: Record<string, string>) => {
    const child = spawn(bin(), args, { cwd: app, env: { ...localEnv, ...extra } });
    const output = { stdout: '', stderr: '' };
    child.stdout.on('data', (d) => (output.stdout += d));
    child.stderr.on('data', (d) => (output.stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = (stream: 'stdout' | 'stderr', ready: RegExp, timeoutMs = 90_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${ready} within ${timeoutMs} ms:\n${output.stdout}\n${output.stderr}`)),
          timeoutMs,
        );
        const check = () => ready.test(output[stream]) && (clearTimeout(timer), resolve());
        child[stream].on('data', check);
        void exited.then(
          () => (clearTimeout(timer), check() || reject(new Error(`exited before ${ready}:\n${output.stdout}\n${output.stderr}`))),
        );
        check();
      });
    return { child, output, exited, until };
  };
  const listening = (hostPort: string) =>
    new Promise<boolean>((resolve) => {
      const url = new URL(hostPort.includes('://') ? hostPort : `tcp://${hostPort}`);
      const socket = connect(Number(url.port), url.hostname);
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });

  let services: ReturnType<typeof start> | undefined;
  let servicesEnv: Record<string, string> = {};
  afterAll(() => services?.child.kill('SIGKILL')); // only if a step failed before stopping it

  it('local services starts the embedded broker and SQS/S3 and prints the environment', async () => {
    services = start(['local', 'services', '--topic', 'payments', '--partitions', '2'], {});
    await services.until('stdout', /^READY$/m);
    servicesEnv = Object.fromEntries(
      services.output.stdout
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(servicesEnv).toMatchObject({ KAFKA_TOPIC: 'payments', DLQ_URL: expect.stringContaining('kafka-dead-letters') });
  }, 120_000);

  it("local invoke runs the user's handler on a record built from flags: a good one is processed, one it fails for good is dead-lettered in the local SQS", async () => {
    const good = cli(['local', 'invoke', '--handler', 'handler.ts', '--value', '{"id":"p1","cents":100}', '--key', 'p1'], servicesEnv);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toContain(`${USER_MARKER} p1`);
    expect(lastLine(good.stdout)).toEqual({ response: { batchItemFailures: [] }, deadLetters: [] });
    // local services named no ledger table (no --idempotency): a handler without the option is not warned.
    expect(good.stdout + good.stderr).not.toContain('no idempotency option');

    const bad = cli(
      ['local', 'invoke', '--handler', 'handler.ts#handler', '--value', '{"id":"p2","cents":-1}', '--key', 'p2'],
      servicesEnv,
    );
    expect(bad.status, bad.stderr).toBe(0);
    expect(lastLine(bad.stdout)).toMatchObject({
      response: { batchItemFailures: [] },
      deadLetters: [{ record: { topic: 'orders', key: Buffer.from('p2').toString('base64') }, error: { type: 'NonRetryableError' } }],
    });
    const sqs = new SQSClient({
      endpoint: servicesEnv.AWS_ENDPOINT_URL!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      useQueueUrlAsEndpoint: false,
    });
    try {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: servicesEnv.DLQ_URL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      expect(Messages.map((m) => JSON.parse(m.Body!) as { error: { message: string } }).map((e) => e.error.message)).toEqual([
        'payment p2: negative amount',
      ]);
    } finally {
      sqs.destroy();
    }

    const missing = cli(['local', 'invoke', '--handler', 'handler.ts#onPayment', '--value', '{}'], servicesEnv);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`has no exported function "onPayment"; it exports "handler"`);
  }, 120_000);

  it('local run consumes a topic with the handler (progress on stderr) until Ctrl-C, and local read reads the topic back', async () => {
    for (const [id, cents] of [
      ['r1', 5],
      ['r2', -5],
      ['r3', 7],
    ] as const) {
      const sent = cli(['local', 'produce', '--topic', 'payments', '--key', id, '--value', JSON.stringify({ id, cents })], servicesEnv);
      expect(sent.status, sent.stderr).toBe(0);
    }
    writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'npx tsx app.ts', context: { topics: 'payments', batchSize: 10 } }));
    const run = start(['local', 'run', '--handler', 'handler.ts'], servicesEnv);
    await run.until('stderr', /^2 processed · 0 retried · 1 dead-lettered/m);
    expect(run.output.stderr).toContain('consuming payments on');
    expect(run.output.stdout).toContain(`${USER_MARKER} r3`);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output.stderr).toContain('stopping: the emulator');

    const read = cli(['local', 'read', '--topic', 'payments'], servicesEnv);
    expect(read.status, read.stderr).toBe(0);
    const records = read.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { key: string; value: string });
    expect(records.map((r) => r.key).sort()).toEqual(['r1', 'r2', 'r3']);
  }, 180_000);

  it('Ctrl-C stops the services: the broker and SQS/S3 no longer listen', async () => {
    const { child, exited } = services!;
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await listening(servicesEnv.KAFKA_BROKERS!)).toBe(false);
    expect(await listening(servicesEnv.AWS_ENDPOINT_URL!)).toBe(false);
  }, 60_000);
});
