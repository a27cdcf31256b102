import { kafkaConsumer } from '../functions/runtime';
import { orderEventText, noop } from '../bench/fixtures';
import { floorHandler } from '../bench/baselines/floor';
import { lambdaContext } from '../local/esm/lambda-context';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const which = process.argv[2] ?? 'ours';
const ours = kafkaConsumer({ processRecord: (r) => noop(r.value) });
const floor = floorHandler(noop);
const h = which === 'ours' ? (e: any, c: any) => ours(e, c) : floor;
const text = orderEventText(10_000, 10, { bytes: 1024 });
const ctx = lambdaContext(600_000);
let best = Infinity;
for (let i = 0; i < 60; i++) {
  const e = JSON.parse(text);
  const t = performance.now();
  await h(e, ctx);
  best = Math.min(best, performance.now() - t);
}
console.log(which, 'best ms', best.toFixed(2), 'rec/s', Math.round(10_000 / best * 1000));
