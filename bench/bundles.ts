import { fork } from 'node:child_process';
import { build } from 'esbuild';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundlingOptions, nodeOptions } from '../src/constructs/bundling.js';

/** Where bundles and the scenarios' logs go (ignored by git). Inside the repo, so a bundle's
 * external `@aws-sdk/*` resolves from node_modules, as it does from the Lambda runtime. */
export const OUT_DIR = path.resolve('bench/.out');

export interface Bundle {
  readonly file: string;
  /** The JavaScript file, without its source map. */
  readonly bytes: number;
}

/** Bundles a handler with the options the CDK app gives NodejsFunction (esbuild, minified, CJS, `@aws-sdk/client-*` external). */
export async function bundle(entry: string, name: string): Promise<Bundle> {
  const options = bundlingOptions();
  const file = path.join(OUT_DIR, name, 'index.js');
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: options.target!,
    format: options.format === 'esm' ? 'esm' : 'cjs',
    minify: options.minify!,
    sourcemap: options.sourceMap!,
    external: options.externalModules!,
    logLevel: 'error',
  });
  // A Lambda asset has no package.json; this repository's says "type": "module".
  writeFileSync(path.join(path.dirname(file), 'package.json'), '{ "type": "commonjs" }\n');
  return { file, bytes: statSync(file).size };
}

/**
 * Runs a probe (`bench/probes/<name>.mjs`, plain JavaScript: no loader in the measured
 * process) in a fresh Node process with the deployed functions' settings, and returns what it reports.
 */
export function runProbe<T>(name: string, args: string[], execArgv: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(path.resolve(`bench/probes/${name}.mjs`), args, {
      execArgv: [...execArgv, ...(nodeOptions().NODE_OPTIONS?.split(' ') ?? [])], // NODE_OPTIONS as the CDK app sets it
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/unused',
        AWS_LAMBDA_FUNCTION_NAME: 'consumer',
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.once('message', (m) => resolve(m as T));
    child.once('exit', (code) => code !== 0 && reject(new Error(`probe ${name} ${args.join(' ')} failed (exit ${code}): ${stderr}`)));
  });
}
