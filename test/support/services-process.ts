import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ServicesProcess {
  /** The NAME=value lines it printed before READY. */
  readonly env: Record<string, string>;
  /** Stops it (SIGTERM to its process group) and waits until every process of the group is gone. */
  stop(): Promise<void>;
}

const READY_DEADLINE_MS = 180_000; // a first run builds the embedded broker
const STOP_DEADLINE_MS = 20_000;

/**
 * Runs `npm run services` as a user would, in a process group of its own: npm does not pass a
 * SIGTERM on to its script, a terminal's Ctrl-C reaches the whole group, and so does {@link ServicesProcess.stop}.
 */
export async function startServicesProcess(env: NodeJS.ProcessEnv): Promise<ServicesProcess> {
  const child = spawn('npm', ['run', 'services'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const group = child.pid!;
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));

  const groupAlive = () => {
    try {
      process.kill(-group, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stop = async () => {
    if (!groupAlive()) return;
    process.kill(-group, 'SIGTERM');
    const deadline = Date.now() + STOP_DEADLINE_MS;
    while (groupAlive() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (groupAlive()) process.kill(-group, 'SIGKILL');
  };

  const printed: Record<string, string> = {};
  const lines = createInterface({ input: child.stdout });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`npm run services printed no READY within ${READY_DEADLINE_MS / 1_000} s:\n${stderr}`)),
        READY_DEADLINE_MS,
      );
      child.once('exit', (code) => reject(new Error(`npm run services exited (code ${code}) before READY:\n${stderr}`)));
      lines.on('line', (line) => {
        const variable = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
        if (variable) printed[variable[1]!] = variable[2]!;
        if (line === 'READY') resolve();
      });
    });
  } catch (error) {
    await stop();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  lines.removeAllListeners('line');
  return { env: printed, stop };
}
