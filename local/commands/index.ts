// The `local` commands of `kafka-lambda-consumers` (src/cli reads their command line and loads
// this module by path; the package ships it bundled as dist/local/commands.js).
import type { LocalAction } from '../../src/cli/local-command-line.js';
import type { Io } from '../../src/cli/run.js';
import { handlerFile, loadHandler } from './handler-module.js';
import { invokeOnce } from './invoke.js';
import { produceCommand } from './produce.js';
import { readCommand } from './read.js';
import { eventOf } from './record-event.js';
import { runCommand } from './run.js';
import { servicesCommand } from './services.js';

export async function runLocalCommand(action: LocalAction, io: Io): Promise<number> {
  switch (action.name) {
    case 'invoke': {
      const file = handlerFile(action.handler, process.cwd());
      const event = await eventOf(action.event, process.cwd());
      return invokeOnce(
        {
          load: () => loadHandler(file, action.handler),
          event,
          timeoutSeconds: action.timeoutSeconds,
          functionName: 'local-invoke',
          needsKafka: false,
          idempotency: action.idempotency,
        },
        io,
      );
    }
    case 'services':
      return servicesCommand(action, io);
    case 'run':
      return runCommand(action, io);
    case 'read':
      return readCommand(action, io);
    case 'produce':
      return produceCommand(action, io);
  }
}
