import { spawn, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../../local/chaos/schedule.js';
import type { ChaosSummary } from '../../local/chaos/run.js';

/** Whether any process is left in a process group (the command's own, since it was started detached). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * What is left of a process group once its leader has exited: nothing, once the children that
 * end on their parent's exit (they read EOF) have ended; or, after 10 s, the processes still there.
 */
async function leftRunning(pgid: number): Promise<string[]> {
  for (const giveUpAt = Date.now() + 10_000; Date.now() < giveUpAt; await new Promise((resolve) => setTimeout(resolve, 100))) {
    if (!groupAlive(pgid)) return [];
  }
  const ps = spawnSync('ps', ['-eo', 'pgid=,pid=,args='], { encoding: 'utf8' });
  process.kill(-pgid, 'SIGKILL');
  return ps.stdout.split('\n').filter((line) => line.trim().split(/\s+/)[0] === String(pgid));
}

let started: number | undefined;
// Whatever ends the test (a timeout included), nothing of the run is left behind.
afterEach(() => {
  if (started !== undefined && groupAlive(started)) process.kill(-started, 'SIGKILL');
  started = undefined;
});

/** One `npm run chaos` of 2,000 records in its own process group: its exit code, summary, log and what it left running. */
async function runChaos(deadlineSeconds: number, ...args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'local/chaos/cli.ts', '--records', '2000', '--deadline', String(deadlineSeconds), '--json', ...args],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  started = child.pid;
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const left = await leftRunning(child.pid!);
  const summary = JSON.parse(out.trim().split('\n').at(-1)!) as ChaosSummary;
  return {
    code,
    summary,
    left,
    log: err
      .split('\n')
      .filter((l) => !l.startsWith('{'))
      .join('\n'),
  };
}

describe('npm run chaos', () => {
  it('loses no record under every kind of fault, and leaves no process behind', async () => {
    // Its own embedded cluster (3 brokers) and SQS/S3. About a minute here; its deadline makes a
    // stuck run report what it could not account for instead of running on.
    // A run cut short at its deadline, or stalled with every fault healed, fails: the mapping must
    // carry on through broker outages by itself, as Lambda's pollers do (nothing restarts it).
    const { code, summary, left, log } = await runChaos(150);
    expect({ complete: summary.complete, consumerStalls: summary.consumerStalls }, log).toEqual({ complete: true, consumerStalls: 0 });
    expect({ code, lost: summary.lost, lostRecords: summary.lostRecords }, log).toEqual({ code: 0, lost: 0, lostRecords: undefined });
    expect(summary.produced).toBe(2000);
    expect(summary.processed + summary.deadLettered).toBeGreaterThanOrEqual(summary.produced);
    // Each finish follows a delivery: a record finished twice was delivered twice (deliveries are
    // counted at the emulator's invocations, effects where the function finishes a record).
    expect(summary.duplicates).toBeGreaterThanOrEqual(summary.duplicateEffects);
    expect(summary.duplicates).toBeGreaterThan(0); // every fault brings records again
    for (const kind of FAULT_KINDS) expect(summary.faults[kind], kind).toBeGreaterThan(0);
    // The outage breaker (on by default) keeps a downstream outage's records out of the DLQ and in order.
    expect({ outageDeadLetters: summary.outageDeadLetters, outOfOrder: summary.outOfOrder }, log).toEqual({
      outageDeadLetters: 0,
      outOfOrder: 0,
    });
    expect(summary.pauses).toBeGreaterThan(0);
    expect(left).toEqual([]);
  }, 600_000);

  // The keyed mix: 4 keys of 200 with records that fail for good (keys 7, 57, 107, 157, in partitions 1, 3, 5), records before and after them.
  it('park-key: no record lost, every key in offset order (replayed copies as their originals), no clean key delayed', async () => {
    const { code, summary, log } = await runChaos(240, '--failure-mode', 'park-key');
    expect({ outOfOrder: summary.outOfOrder, delayedCleanKeys: summary.delayedCleanKeys }, log).toEqual({
      outOfOrder: 0,
      delayedCleanKeys: 0,
    });
    expect({ complete: summary.complete, lost: summary.lost, code }, log).toEqual({ complete: true, lost: 0, code: 0 });
    // The replay released the failing keys (the data corrected first): nothing is left dead-lettered.
    expect(summary.keysReleased, log).toBeGreaterThan(0);
    for (const kind of FAULT_KINDS) expect(summary.faults[kind], kind).toBeGreaterThan(0);
  }, 600_000);

  it('block: no record lost or dead-lettered, every partition in offset order, the blocked ones resume after the fix', async () => {
    const { code, summary, log } = await runChaos(240, '--failure-mode', 'block');
    expect({ outOfOrder: summary.outOfOrder, deadLettered: summary.deadLettered, onFailure: summary.onFailure }, log).toEqual({
      outOfOrder: 0,
      deadLettered: 0,
      onFailure: 0,
    });
    expect({ complete: summary.complete, lost: summary.lost, code }, log).toEqual({ complete: true, lost: 0, code: 0 });
    // Held at their failures until the data was fixed, while the partitions without failures caught up.
    expect(summary.block, log).toEqual({
      blockedPartitions: 3,
      blockedPartitionsResumed: 3,
      cleanPartitionsCaughtUp: 3,
      cleanPartitions: 3,
    });
    // No dead letters, so the replay has nothing to produce, and nothing to be killed in the middle of.
    for (const kind of FAULT_KINDS) if (kind !== 'replayCrashes') expect(summary.faults[kind], kind).toBeGreaterThan(0);
  }, 600_000);
});
