// The example consumer bundled with the options the construct gives NodejsFunction (esbuild,
// minified, CJS, `@aws-sdk/client-*` external), in memory: its code and what each source adds to it.
import path from 'node:path';
import { build } from 'esbuild';
import { bundlingOptions } from '../../src/constructs/bundling.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export async function exampleConsumer() {
  const options = bundlingOptions();
  const { metafile, outputFiles } = await build({
    entryPoints: ['app/consumer/index.ts'],
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
  const inputs = Object.values(metafile.outputs)[0]!.inputs;
  return { code: outputFiles[0]!.text, bytes: outputFiles[0]!.contents.length, inputs };
}

/** The bytes the sources whose path (relative to the repository, or `node_modules/…`) matches add to the bundle. */
export function bytesOf(inputs: Awaited<ReturnType<typeof exampleConsumer>>['inputs'], sources: RegExp): number {
  return Object.entries(inputs)
    .filter(([file]) => sources.test(file))
    .reduce((sum, [, input]) => sum + input.bytesInOutput, 0);
}
