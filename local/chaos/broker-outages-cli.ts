// `npm run chaos:outages [-- --records N] [--seed N] [--verbose]`: the outage rhythm of
// broker-outages.ts (a random broker of three down 1.5 s every 4 s, the mapping's pollers
// replaced once); prints its summary as JSON. Exit code 0 only when every record was processed.
import { parseArgs } from 'node:util';
import { logLevel } from 'kafkajs';
import { runBrokerOutages } from './broker-outages.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    verbose: { type: 'boolean', default: false },
  },
});
const wholeNumber = (name: string, value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(
      `--${name} must be a whole number ≥ 1, got ${value}\nusage: npm run chaos:outages -- [--records N] [--seed N] [--verbose]\n`,
    );
    process.exit(2);
  }
  return n;
};
const started = Date.now();
const summary = await runBrokerOutages({
  records: wholeNumber('records', values.records),
  seed: wholeNumber('seed', values.seed),
  kafkaLogLevel: values.verbose ? logLevel.INFO : logLevel.WARN,
  log: (line) => process.stderr.write(`${((Date.now() - started) / 1_000).toFixed(1)} ${line}\n`),
});
console.log(JSON.stringify(summary));
process.exit(summary.complete ? 0 : 1);
