// `local services` (and `npm run services`): the local infrastructure in the foreground, like
// `docker compose up`. Prints NAME=value lines for a shell (`eval` them, or copy them), then
// READY; Ctrl-C stops what it started.
import { EXIT } from '../../src/cli/exit-codes.js';
import type { LocalAction } from '../../src/cli/local-command-line.js';
import type { Io } from '../../src/cli/run.js';
import { startLocalServices } from '../services.js';
import { untilAborted } from './stop.js';

export async function servicesCommand(action: Extract<LocalAction, { name: 'services' }>, io: Io): Promise<number> {
  const services = await startLocalServices({
    ...(action.topic ? { topic: action.topic } : {}),
    partitions: action.partitions,
    environment: io.env,
    idempotency: action.idempotency,
  });
  for (const [name, value] of Object.entries(services.env)) io.out(`${name}=${value}\n`);
  io.out('READY\n');
  await untilAborted(io.stop);
  io.err('stopping local services…\n');
  await services.stop();
  return EXIT.ok;
}
