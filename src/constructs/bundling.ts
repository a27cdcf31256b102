// How the constructs bundle their functions, where they find this package's own handlers, and
// what the functions' Node.js runs with.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { ConfigurationError } from './errors.js';

/**
 * esbuild locally (no Docker), minified. Only the AWS SDK's client packages are left to the
 * Lambda runtime, which provides them; their helpers (credential providers, utilities) are not
 * promised, so everything else is bundled. No source maps: Node applies them on every read of
 * `error.stack`, which each dead letter does (measured in `npm run bench`, failure-path).
 */
export function bundlingOptions(): nodejs.BundlingOptions {
  return {
    minify: true,
    sourceMap: false,
    target: 'node24',
    externalModules: ['@aws-sdk/client-*'],
    format: nodejs.OutputFormat.CJS,
    forceDockerBundling: false,
  };
}

/** The functions' NODE_OPTIONS: source maps read only when the bundles carry them. */
export function nodeOptions(): Record<string, string> {
  return bundlingOptions().sourceMap ? { NODE_OPTIONS: '--enable-source-maps' } : {};
}

/**
 * One of this package's own handlers (`replay/index`, `breaker/resumer`), next to the constructs:
 * in the published package, dist/<handler>.cjs, bundled at `npm pack` with its dependencies, so a
 * user's install needs none of them; in this repository, the TypeScript source.
 * @param what names the handler in the error
 */
export function packagedHandlerEntry(handler: string, what: string): string {
  const candidates = ['.cjs', '.ts'].map((ext) => fileURLToPath(new URL(`../${handler}${ext}`, import.meta.url)));
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new ConfigurationError(`The ${what} is missing: none of ${candidates.join(', ')} exists; reinstall the package.`);
  return found;
}
