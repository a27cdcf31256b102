import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/command-line.js';
import { EXIT } from '../../../src/cli/exit-codes.js';

function parse(...argv: string[]) {
  let out = '';
  let err = '';
  const command = parseCommandLine(argv, { writeOut: (t) => void (out += t), writeErr: (t) => void (err += t) });
  return { command, out, err };
}

describe('the local command line', () => {
  it('builds one record from flags: value, key, headers in order (a name may repeat), topic, partition, offset', () => {
    const { command } = parse(
      'local',
      'invoke',
      '--handler',
      'src/pay.ts#onPayment',
      '--value',
      '{"id":"p1"}',
      '--key',
      'p1',
      '--header',
      'trace=a=b',
      '--header',
      'trace=2',
      '--topic',
      'payments',
      '--partition',
      '3',
      '--offset',
      '42',
      '--timeout',
      '5',
      '--idempotency',
    );
    expect(command).toEqual({
      name: 'local',
      action: {
        name: 'invoke',
        handler: { file: 'src/pay.ts', exportName: 'onPayment' },
        event: {
          record: {
            topic: 'payments',
            partition: 3,
            offset: 42,
            value: { text: '{"id":"p1"}' },
            key: 'p1',
            headers: [
              ['trace', 'a=b'],
              ['trace', '2'],
            ],
          },
        },
        timeoutSeconds: 5,
        idempotency: true,
      },
    });
  });

  it('has defaults: the export `handler`, topic orders, partition and offset 0, a 30 s timeout; or takes a whole event file', () => {
    expect(parse('local', 'invoke', '--handler', 'h.ts', '--value-file', 'v.bin').command).toEqual({
      name: 'local',
      action: {
        name: 'invoke',
        handler: { file: 'h.ts', exportName: 'handler' },
        event: { record: { topic: 'orders', partition: 0, offset: 0, value: { file: 'v.bin' }, headers: [] } },
        timeoutSeconds: 30,
        idempotency: false,
      },
    });
    expect(parse('local', 'invoke', '--handler', 'h.ts', '--event', 'e.json').command).toMatchObject({
      action: { event: { file: 'e.json' } },
    });
  });

  it('reads local run: the mapping settings given as flags only, cdk.json by default', () => {
    expect(
      parse('local', 'run', '--handler', 'h.ts', '--batch-size', '10', '--batching-window', '2', '--no-report-batch-item-failures').command,
    ).toEqual({
      name: 'local',
      action: {
        name: 'run',
        handler: { file: 'h.ts', exportName: 'handler' },
        settings: { batchSize: 10, maxBatchingWindowSeconds: 2, reportBatchItemFailures: false },
        cdkJson: 'cdk.json',
        partitions: 6,
        timeoutSeconds: 60,
        idempotency: false,
      },
    });
    expect(parse('local', 'run', '--handler', 'h.ts', '--idempotency').command).toMatchObject({ action: { idempotency: true } });
    expect(parse('local', 'run', '--handler', 'h.ts', '--topic', 't', '--starting-position', 'LATEST').command).toMatchObject({
      action: { settings: { topic: 't', startingPosition: 'LATEST' } },
    });
  });

  it('reads services, produce and read', () => {
    expect(parse('local', 'services').command).toEqual({ name: 'local', action: { name: 'services', partitions: 6, idempotency: false } });
    expect(parse('local', 'services', '--idempotency').command).toMatchObject({ action: { idempotency: true } });
    expect(parse('local', 'produce', '--topic', 't', '--value', '1', '--partition', '2').command).toEqual({
      name: 'local',
      action: { name: 'produce', topic: 't', partition: 2, record: { value: { text: '1' }, headers: [] } },
    });
    expect(parse('local', 'read', '--topic', 't', '--max', '3').command).toEqual({
      name: 'local',
      action: { name: 'read', topic: 't', max: 3, follow: false },
    });
  });

  it.each(['local', 'local invoke', 'local services', 'local run', 'local produce', 'local read'])(
    '`%s --help` prints the usage on stdout and exits 0',
    (words) => {
      const { command, out, err } = parse(...words.split(' '), '--help');
      expect(command).toEqual({ name: 'exit', code: EXIT.ok });
      expect(out).toContain(`Usage: kafka-lambda-consumers ${words} [options]`);
      expect(err).toBe('');
    },
  );

  it.each([
    [['local'], /Usage: kafka-lambda-consumers local/],
    [['local', 'nothing'], /unknown command 'nothing'/],
    [['local', 'invoke', '--value', '{}'], /required option '--handler <file\[#export\]>' not specified/],
    [['local', 'invoke', '--handler', 'h.ts'], /what event\? Give --event FILE, or a record with --value JSON or --value-file FILE/],
    [['local', 'invoke', '--handler', 'h.ts', '--event', 'e.json', '--value', '{}'], /give one of --event, --value, not several/],
    [['local', 'invoke', '--handler', 'h.ts', '--event', 'e.json', '--key', 'k'], /--key and --header build a record/],
    [['local', 'invoke', '--handler', 'h.ts', '--value', 'not json'], /--value <json>' argument 'not json' is invalid\. not JSON/],
    [['local', 'invoke', '--handler', 'h.ts#', '--value', '{}'], /give FILE or FILE#export/],
    [['local', 'invoke', '--handler', 'h.ts', '--value', '{}', '--header', 'nameless'], /give name=value/],
    [['local', 'invoke', '--handler', 'h.ts', '--value', '{}', '--partition', '-1'], /a whole number from 0/],
    [['local', 'run', '--handler', 'h.ts', '--batch-size', '10001'], /a whole number from 1 to 10,000/],
    [['local', 'run', '--handler', 'h.ts', '--starting-position', 'AT_TIMESTAMP'], /Allowed choices are LATEST, TRIM_HORIZON/],
    [['local', 'read'], /required option '--topic <topic>' not specified/],
    [['local', 'services', '--nope'], /unknown option '--nope'/],
  ])('%j is a bad command line: the error and the usage on stderr, exit 2', (argv, message) => {
    const { command, out, err } = parse(...argv);
    expect(command).toEqual({ name: 'exit', code: EXIT.usage });
    expect(err).toMatch(message);
    expect(err).toContain('Usage: kafka-lambda-consumers local');
    expect(out).toBe('');
  });
});
