// Runs in a fresh Node process: loads a bundled handler, warms it up on a small event, then
// reports how far one large event raises the process's peak RSS above where it stood.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { context } from './lambda-context.mjs';

const [bundle, warmupFile, eventFile] = process.argv.slice(2);
const { handler } = createRequire(import.meta.url)(bundle);
await handler(JSON.parse(readFileSync(warmupFile, 'utf8')), context);
globalThis.gc();
const before = process.memoryUsage.rss();

// The Lambda runtime's part: the payload as text, then parsed.
const text = readFileSync(eventFile, 'utf8');
const event = JSON.parse(text);
const parsed = process.memoryUsage.rss();
const peakParsed = process.resourceUsage().maxRSS * 1024;
// The handler's part.
await handler(event, context);
const peak = process.resourceUsage().maxRSS * 1024;
process.send({ before, parsed, peakParsed, peak, batchBytes: Buffer.byteLength(text) });
process.disconnect();
