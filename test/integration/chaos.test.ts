import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../local/chaos/schedule';
import type { ChaosSummary } from '../../local/chaos/run';

/** Processes left in a process group (the command's own, since it was started detached). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run chaos', () => {
  it('loses no record under every kind of fault, and leaves no process behind', async () => {
    // Its own embedded cluster (3 brokers) and SQS/S3, in its own process group.
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/chaos/cli.ts', '--records', '2000', '--json'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    const alive = groupAlive(child.pid!);
    if (alive) process.kill(-child.pid!, 'SIGKILL');
    const summary = JSON.parse(out.trim().split('\n').at(-1)!) as ChaosSummary;
    expect({ code, lost: summary.lost, lostRecords: summary.lostRecords }, err.split('\n').filter((l) => !l.startsWith('{')).join('\n')).toEqual({ code: 0, lost: 0, lostRecords: undefined });
    expect(summary.produced).toBe(2000);
    expect(summary.complete).toBe(true);
    expect(summary.processed + summary.deadLettered).toBeGreaterThanOrEqual(summary.produced);
    for (const kind of FAULT_KINDS) expect(summary.faults[kind], kind).toBeGreaterThan(0);
    expect(alive).toBe(false);
  }, 300_000);
});
