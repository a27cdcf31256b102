#!/usr/bin/env node
// `kafka-lambda-consumers dlq replay|report …` (`npm run dlq -- …` in the repository) and
// `kafka-lambda-consumers local invoke|services|run|read …`.
// Ctrl-C once: stop after the invocation in flight (local: stop what was started); twice: quit at once.
import { parseCommandLine } from './command-line.js';
import { EXIT } from './exit-codes.js';
import { runLocal } from './local-tools.js';
import { runCommand, type Io } from './run.js';

// Bound now: --local sends the replay handler's own logs to stderr by replacing process.stdout.write.
const out = process.stdout.write.bind(process.stdout);
const err = process.stderr.write.bind(process.stderr);

const command = parseCommandLine(process.argv.slice(2), { writeOut: (text) => void out(text), writeErr: (text) => void err(text) });
let code: number;
if (command.name === 'exit') {
  code = command.code;
} else {
  const stop = new AbortController();
  const local = command.name === 'local';
  process.on('SIGINT', () => {
    if (!stop.signal.aborted) {
      stop.abort();
      err(
        local
          ? '\nCtrl-C: stopping what this command started (Ctrl-C again to quit now)…\n'
          : '\nCtrl-C: stopping after the invocation in flight (Ctrl-C again to quit now)…\n',
      );
      return;
    }
    if (local) process.exit(EXIT.interrupted);
    // Nothing is lost either way: a dead letter is deleted only once Kafka acknowledged its record.
    err(
      '\nquitting now: an invocation on AWS runs on to its end; a local one stops here, and what it had received and not deleted comes back to the queue when its visibility timeout ends.\n',
    );
    process.exit(EXIT.interrupted);
  });
  // A local command also stops on a plain `kill` (a script's, a test's) as on Ctrl-C.
  if (local) process.once('SIGTERM', () => stop.abort());
  const io: Io = {
    out: (text) => void out(text),
    err: (text) => void err(text),
    outIsTTY: process.stdout.isTTY === true,
    errIsTTY: process.stderr.isTTY === true,
    env: process.env,
    stop: stop.signal,
  };
  code = command.name === 'local' ? await runLocal(command.action, io) : await runCommand(command, io);
}
process.exitCode = code;
// What a local replay leaves open (a Kafka socket winding down) must not keep the command alive.
setTimeout(() => process.exit(code), 2_000).unref();
