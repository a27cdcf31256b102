// Scenario 6: how much handling one 6 MB batch (Lambda's payload limit) raises the peak RSS
// of a fresh process running the consumer bundle, as a multiple of the batch's size.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_PAYLOAD_BYTES } from '../../local/esm/invocation-batcher.js';
import { OUT_DIR, bundle, runProbe } from '../bundles.js';
import { orderEventText } from '../fixtures.js';
import { progress, runScenario } from '../measure.js';
import { scenario } from '../results.js';

const PARTITIONS = 10;

interface Probe {
  /** RSS after the warm-up and a full GC. */
  before: number;
  /** RSS and peak RSS once the runtime's part is done: the payload read and parsed. */
  parsed: number;
  peakParsed: number;
  /** Peak RSS after the handler. */
  peak: number;
  batchBytes: number;
}

/** The most ~1 KB records whose event stays within Lambda's 6 MB payload. */
function largestEvent(): string {
  const perRecord = orderEventText(100, PARTITIONS).length / 100;
  for (let count = Math.floor(MAX_PAYLOAD_BYTES / perRecord); ; count -= 10) {
    const text = orderEventText(count, PARTITIONS);
    if (text.length <= MAX_PAYLOAD_BYTES) return text;
  }
}

runScenario(async () => {
  const ours = await bundle('app/consumer/index.ts', 'consumer');
  const floor = await bundle('bench/baselines/floor-handler.ts', 'floor');
  const warmupFile = path.join(OUT_DIR, 'memory-warmup.json');
  const eventFile = path.join(OUT_DIR, 'memory-event.json');
  writeFileSync(warmupFile, orderEventText(100, PARTITIONS));
  const text = largestEvent();
  writeFileSync(eventFile, text);
  const records = Object.values(JSON.parse(text).records as Record<string, unknown[]>).reduce((n, r) => n + r.length, 0);

  // The handler's part: how far the peak rose above where the process stood with the parsed event.
  const handlerRaise = (p: Probe) => Math.max(0, p.peak - p.parsed);
  const runtimeRaise = (p: Probe) => Math.max(p.parsed, p.peakParsed) - p.before;
  const o = await runProbe<Probe>('memory', [ours.file, warmupFile, eventFile], ['--expose-gc']);
  const f = await runProbe<Probe>('memory', [floor.file, warmupFile, eventFile], ['--expose-gc']);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  progress(
    `${records} records, ${o.batchBytes} bytes: handler +${mib(handlerRaise(o))} (floor +${mib(handlerRaise(f))}), runtime's payload +${mib(runtimeRaise(o))}`,
  );
  return [
    scenario(
      'memory',
      'bytes',
      false,
      handlerRaise(o),
      { 'batch-bytes': o.batchBytes, floor: handlerRaise(f) },
      {
        records,
        partitions: PARTITIONS,
        batchBytes: o.batchBytes,
        measured:
          "peak RSS of a fresh, warmed-up process while the handler runs, minus its RSS with the event already parsed (the Lambda runtime's part, payload text and parsed event, is runtimeBytes)",
        runtimeBytes: runtimeRaise(o),
      },
    ),
  ];
});
