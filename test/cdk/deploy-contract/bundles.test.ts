// Items 2 and 6 of issue 17: each synthesized bundle loads with only what the Lambda runtime
// provides, and source maps are not paid for on every error.stack.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, cpSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resourcesOf, synthStack } from './support.js';

const REPO_SDK = path.resolve('node_modules/@aws-sdk');
const CLIENT = /^@aws-sdk\/client-[a-z0-9-]+$/;
interface Bundle {
  fn: string;
  dir: string;
  code: string;
  env: Record<string, string>;
  modules: string[];
}

let bundles: Bundle[] = [];
let runtimeDir: string;

beforeAll(async () => {
  // The functions of the default stack, bundled by NodejsFunction as `cdk synth` does.
  const { app, template } = synthStack({}, {}, true);
  const assembly = app.synth();
  runtimeDir = mkdtempSync(path.join(tmpdir(), 'lambda-runtime-'));
  // What the Lambda runtime provides: the SDK's client packages, each with its own dependency tree
  // (a symlink resolves its requires from the real tree), and nothing else.
  mkdirSync(path.join(runtimeDir, 'node_modules/@aws-sdk'), { recursive: true });
  for (const name of readdirSync(REPO_SDK).filter((n) => n.startsWith('client-'))) {
    symlinkSync(path.join(REPO_SDK, name), path.join(runtimeDir, 'node_modules/@aws-sdk', name));
  }
  bundles = await Promise.all(
    Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).map(async ([fn, r]) => {
      const key = (r.Properties.Code as { S3Key: string }).S3Key;
      const asset = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
      const dir = path.join(runtimeDir, 'task', fn);
      cpSync(asset, dir, { recursive: true });
      writeFileSync(path.join(dir, 'package.json'), '{"type":"commonjs"}'); // as in /var/task: no "type": "module" above it
      const file = path.join(dir, 'index.js');
      return {
        fn,
        dir,
        code: readFileSync(file, 'utf8'),
        env: (r.Properties.Environment as { Variables: Record<string, string> }).Variables,
        modules: await modulesRequiredBy(file),
      };
    }),
  );
}, 120_000);
afterAll(() => rmSync(runtimeDir, { recursive: true, force: true }));

/** Every module the bundle requires or imports, loaded at once or lazily, as esbuild's parser sees them (text in strings is not a require). */
async function modulesRequiredBy(file: string): Promise<string[]> {
  const { metafile } = await build({
    entryPoints: [file],
    bundle: true,
    platform: 'node',
    write: false,
    metafile: true,
    external: ['*'],
    logLevel: 'silent',
  });
  return [...new Set(Object.values(metafile.inputs).flatMap((input) => input.imports.map((i) => i.path)))];
}
const isBuiltin = (name: string) => name.startsWith('node:') || builtinModules.includes(name.split('/')[0]!);

describe('function bundles', () => {
  it('synthesizes the three functions: the consumer, its breaker resumer (breaker is on by default) and the replay', () => {
    expect(bundles.map((b) => b.fn).sort()).toEqual([
      expect.stringMatching(/^ConsumerBreakerFunction/),
      expect.stringMatching(/^ConsumerFunction/),
      expect.stringMatching(/^ReplayFunction/),
    ]);
  });

  // AWS Lambda Developer Guide, "Building Lambda functions with Node.js" / runtimes: the Node.js
  // runtimes include the AWS SDK for JavaScript v3 (its clients); helper packages such as
  // @aws-sdk/credential-providers or the removed @aws-sdk/util-utf8-browser are not promised
  // (docs/aws-contracts.md §8). aws-cdk-lib NodejsFunction "externalModules": "A list of modules that should
  // be considered as externals (already available in the runtime)."
  it('requires nothing but Node built-ins and @aws-sdk/client-* packages, each present in the runtime', () => {
    for (const { fn, dir, modules } of bundles) {
      const outside = modules.filter((m) => !isBuiltin(m));
      expect(
        outside.filter((m) => !CLIENT.test(m)),
        fn,
      ).toEqual([]);
      const req = createRequire(path.join(dir, 'index.js'));
      for (const client of outside) expect(() => req.resolve(client), `${fn} needs ${client}`).not.toThrow();
    }
  });

  it("loads each handler module where only the runtime's client packages exist", () => {
    for (const { fn, dir } of bundles) {
      const mod = createRequire(path.join(dir, 'index.js'))(path.join(dir, 'index.js')) as { handler?: unknown };
      expect(typeof mod.handler, fn).toBe('function');
    }
  });

  // Node.js CLI docs, "--enable-source-maps": "Performance may be affected when source maps are
  // enabled and Error.stack is accessed" (every dead-letter envelope reads it). Measured in
  // `npm run bench -- --only failure-path` (README, Benchmarks).
  it('ships no source maps and does not turn them on', () => {
    for (const { fn, dir, code, env } of bundles) {
      expect(existsSync(path.join(dir, 'index.js.map')), fn).toBe(false);
      expect(code).not.toContain('sourceMappingURL');
      expect(env.NODE_OPTIONS ?? '', fn).not.toContain('--enable-source-maps');
    }
  });
});
