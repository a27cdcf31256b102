import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/command-line.js';

function parse(...argv: string[]) {
  let out = '';
  let err = '';
  const command = parseCommandLine(argv, { writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  return { command, out, err };
}

describe('the dlq command line', () => {
  it('reads a replay: target, filters, sizes and limits, as the replay function takes them', () => {
    const { command } = parse(
      'dlq',
      'replay',
      '--stack',
      'Payments',
      '--region',
      'eu-west-1',
      '--topic',
      'orders',
      '--error-type',
      'TimeoutError',
      '--target-topic',
      'orders-retry',
      '--max-per-invocation',
      '500',
      '--max',
      '2000',
      '--max-failed',
      '10',
      '--json',
    );
    expect(command).toEqual({
      name: 'replay',
      target: { kind: 'aws', stack: 'Payments', region: 'eu-west-1' },
      payload: {
        source: 'dlq',
        maxMessages: 500,
        dryRun: false,
        targetTopic: 'orders-retry',
        filter: { topic: 'orders', errorType: 'TimeoutError' },
      },
      max: 2000,
      maxFailed: 10,
      json: true,
    });
  });

  it('has defaults: 1,000 per invocation, the queue, no filter, no limits, text output', () => {
    expect(parse('dlq', 'replay', '--function', 'fn', '--queue-url', 'https://q').command).toEqual({
      name: 'replay',
      target: { kind: 'aws', function: 'fn', queueUrl: 'https://q' },
      payload: { source: 'dlq', maxMessages: 1000, dryRun: false },
      json: false,
    });
    expect(parse('dlq', 'replay', '--local', '--dry-run', '--source', 's3').command).toMatchObject({
      target: { kind: 'local', timeoutSeconds: 300 },
      payload: { source: 's3', dryRun: true },
    });
  });

  it('reads a report: one dry run of up to --sample dead letters (10,000 by default)', () => {
    expect(parse('dlq', 'report', '--local').command).toEqual({
      name: 'report',
      target: { kind: 'local', timeoutSeconds: 300 },
      payload: { source: 'dlq', maxMessages: 10_000, dryRun: true },
      json: false,
    });
    expect(parse('dlq', 'report', '--stack', 'S', '--sample', '50', '--json').command).toMatchObject({
      payload: { maxMessages: 50 },
      json: true,
    });
  });

  it.each([
    [[], 'Usage: kafka-lambda-consumers'],
    [['dlq', 'replay', '--help'], 'Usage: kafka-lambda-consumers dlq replay'],
    [['dlq', 'report', '--help'], 'Usage: kafka-lambda-consumers dlq report'],
    [['dlq', '--help'], 'Usage: kafka-lambda-consumers dlq'],
    [['--help'], 'Usage: kafka-lambda-consumers'],
  ])('prints the usage for %j', (argv, usage) => {
    const { command, out, err } = parse(...argv);
    expect(out + err).toContain(usage);
    expect(command).toEqual({ name: 'exit', code: argv.includes('--help') ? 0 : 2 });
  });

  it.each([
    [['dlq', 'replay', '--local', '--max-per-invocation', '0'], "'0' is invalid. a whole number from 1 to 10,000"],
    [['dlq', 'replay', '--local', '--max-per-invocation', '10001'], 'a whole number from 1 to 10,000'],
    [['dlq', 'replay', '--local', '--max', '1.5'], "'1.5' is invalid"],
    [['dlq', 'replay', '--local', '--max-failed', '-1'], "'-1' is invalid"],
    [['dlq', 'replay', '--local', '--source', 'kafka'], 'Allowed choices are dlq, s3'],
    [['dlq', 'replay'], 'which replay function? Give --stack NAME, --function NAME, or --local.'],
    [['dlq', 'replay', '--local', '--stack', 'S'], '--local runs the replay here'],
    [['dlq', 'replay', '--stack'], "option '--stack <name>' argument missing"],
    [['dlq', 'drain', '--local'], "unknown command 'drain'"],
    [['dlq', 'report', '--local', '--max', '3'], "unknown option '--max'"],
    [['dlq', 'report', '--local', '--sample', '0'], 'a whole number from 1 to 10,000'],
  ])('exits 2 with the error and the usage for %j', (argv, error) => {
    const { command, err } = parse(...argv);
    expect(command).toEqual({ name: 'exit', code: 2 });
    expect(err).toContain(error);
    expect(err).toContain('Usage: kafka-lambda-consumers dlq');
  });
});
