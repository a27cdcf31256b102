// The package as a user gets it: `npm pack`, the tarball installed into a fresh CDK app outside
// the repository (with aws-cdk-lib, constructs, esbuild and tsx, from the npm cache when it has
// them), an ES-module app and handler written against the published entry points, synthesized.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CFN_LINT_INSTALL_HINT, cfnLintInstalled, lintTemplateFiles } from '../support/cfn-lint.js';

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
  const tools = ['aws-cdk-lib', 'constructs', 'esbuild', 'tsx', '@types/node'].map((tool) => `${tool}@${manifest.devDependencies[tool]}`);
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
  it('ships compiled ES modules, their declarations and the bundled replay handler, nothing of the repository else', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'dist/constructs/index.js',
        'dist/constructs/index.d.ts',
        'dist/runtime/index.js',
        'dist/runtime/index.d.ts',
        'dist/replay/index.cjs',
        'dist/runtime/avro.js',
        'dist/runtime/avro.d.ts',
        'dist/runtime/protobuf.js',
        'dist/runtime/protobuf.d.ts',
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
