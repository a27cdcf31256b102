// How the constructs bundle their functions, and what the functions' Node.js runs with.
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

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
