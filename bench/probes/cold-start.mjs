// Runs in a fresh Node process: loads a bundled handler the way the Lambda runtime loads a
// CommonJS handler, invokes it once, and reports the milliseconds both took.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { context } from './lambda-context.mjs';

const [bundle, eventFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));

const start = performance.now();
const { handler } = createRequire(import.meta.url)(bundle);
await handler(event, context);
process.send({ ms: performance.now() - start });
process.disconnect();
