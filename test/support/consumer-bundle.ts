// A handler bundled as `cdk deploy` bundles it (esbuild with the options the construct gives
// NodejsFunction: one CommonJS file, `@aws-sdk/client-*` external), for the tests that check what a
// feature adds to every consumer's bundle and what it loads at run time.
import { createRequire, registerHooks } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { bundlingOptions } from '../../src/constructs/bundling.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export interface HandlerBundle {
  readonly code: string;
  /** The bundle's inputs (repository-relative paths) with the bytes each put in the output. */
  readonly inputs: Metafile['outputs'][string]['inputs'];
}

/** Bundles `app/consumer/index.ts`, or the handler given as source text (resolved from the repository's root). */
export async function bundleHandler(entry: Pick<BuildOptions, 'entryPoints' | 'stdin'> = { entryPoints: ['app/consumer/index.ts'] }) {
  const options = bundlingOptions();
  const { metafile, outputFiles } = await build({
    ...entry,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    minify: options.minify!,
    target: options.target!,
    external: options.externalModules!,
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return { code: outputFiles[0]!.text, inputs: Object.values(metafile.outputs)[0]!.inputs } satisfies HandlerBundle;
}

/** The bytes the files matching `sources` put in the bundle's output. */
export function bytesFrom(bundle: HandlerBundle, sources: RegExp): number {
  return Object.entries(bundle.inputs)
    .filter(([file]) => sources.test(file))
    .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
}

type Handler = (event: unknown, context: unknown) => Promise<{ batchItemFailures: unknown[] }>;

/**
 * Runs `use` with a loader of fresh copies of the bundle (each with new module state), every
 * `@aws-sdk/client-*` it imports answered by `stub` (a module's source text) and recorded in `loaded`.
 */
export async function withStubbedClients(
  code: string,
  stub: string,
  use: (load: () => Handler, loaded: readonly string[]) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'handler-bundle-'));
  const loaded: string[] = [];
  const hooks = registerHooks({
    resolve(specifier, context, nextResolve) {
      if (!specifier.startsWith('@aws-sdk/client-')) return nextResolve(specifier, context);
      loaded.push(specifier);
      return { url: `data:text/javascript,${stub}`, shortCircuit: true };
    },
  });
  let copies = 0;
  const load = () => {
    const file = `handler-${copies++}.cjs`;
    writeFileSync(path.join(dir, file), code);
    return (createRequire(path.join(dir, 'x.cjs'))(`./${file}`) as { handler: Handler }).handler;
  };
  try {
    await use(load, loaded);
  } finally {
    hooks.deregister();
    rmSync(dir, { recursive: true, force: true });
  }
}
