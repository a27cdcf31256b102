// `local …`: the commands live in local/commands, shipped as dist/local/commands.js (bundled with
// the kafkajs the repository patches; fauxqs and tsx are the user's own installs). Loaded by a path
// computed at run time, so that dist/cli, and whatever imports the package, stays without them.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeError } from '../contract/errors.js';
import { CliError, EXIT, isCliError } from './exit-codes.js';
import type { LocalAction } from './local-command-line.js';
import type { Io } from './run.js';

/** What local/commands exports. */
export interface LocalCommands {
  runLocalCommand(action: LocalAction, io: Io): Promise<number>;
}

async function loadLocalCommands(): Promise<LocalCommands> {
  // The package's bundle, beside dist/cli; in the repository, the source (which tsx loads).
  const candidates = [new URL('../local/commands.js', import.meta.url), new URL('../../local/commands/index.ts', import.meta.url)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (!found)
    throw new CliError(
      `the local tools are missing: none of ${candidates.map((u) => fileURLToPath(u)).join(', ')} exists; reinstall the package.`,
    );
  return (await import(pathToFileURL(fileURLToPath(found)).href)) as LocalCommands;
}

/** Runs a `local` command; returns its exit code, having said what went wrong (without a stack trace for a CliError). */
export async function runLocal(action: LocalAction, io: Io): Promise<number> {
  try {
    return await (await loadLocalCommands()).runLocalCommand(action, io);
  } catch (error) {
    const { type, message } = describeError(error);
    io.err(`error: ${isCliError(error) ? message : `${type}: ${message}`}\n`);
    return isCliError(error) ? error.exitCode : EXIT.error;
  }
}
