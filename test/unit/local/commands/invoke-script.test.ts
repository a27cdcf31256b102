// `npm run invoke` (its script: one node process with tsx's loader): --help and a bad command
// line behave as the package's command does, with no stack trace (it crashed on --help once).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const invoke = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'local/invoke.ts', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('npm run invoke', () => {
  it('--help prints the usage on stdout and exits 0', () => {
    const { status, stdout, stderr } = invoke('--help');
    expect(stdout).toContain('usage: npm run invoke -- consumer --event FILE');
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });

  it.each([
    [['--nope'], /Unknown option '--nope'/],
    [['payments'], /unknown function "payments"/],
    [['consumer'], /--event FILE is required for the consumer/],
    [['consumer', '--event', 'missing.json'], /--event: cannot read .*missing\.json/],
    [['replay', '--payload', '{'], /--payload is not JSON/],
  ])('%j exits 2 with the error and the usage, no stack trace', (args, message) => {
    const { status, stdout, stderr } = invoke(...args);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage: npm run invoke');
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stdout).toBe('');
    expect(status).toBe(2);
  });
});
