// A user's handler as `--handler FILE[#export]` names it: found (or the error names what is
// missing), and loaded as `npm run invoke` loads TypeScript, through tsx.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import type { HandlerRef } from '../../src/cli/local-command-line.js';
import { importPeer } from './peers.js';
import type * as TsxApi from 'tsx/esm/api';

export type LoadedHandler = (event: unknown, context: unknown) => Promise<unknown>;

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** The handler file's absolute path; a file that does not exist is a bad command line (exit 2). */
export function handlerFile(ref: HandlerRef, cwd: string): string {
  const file = path.resolve(cwd, ref.file);
  if (!existsSync(file)) throw new CliError(`--handler: ${file} does not exist (given as "${ref.file}", from ${cwd}).`, EXIT.usage);
  return file;
}

let typescriptLoader: Promise<unknown> | undefined;

/** Lets this process import TypeScript (tsx's loader, once; a second registration in a tsx process is harmless). */
export function loadTypeScript(): Promise<unknown> {
  typescriptLoader ??= importPeer<typeof TsxApi>('tsx/esm/api', 'loading a TypeScript handler').then(({ register }) => register());
  return typescriptLoader;
}

/**
 * Imports the module and returns its export; one that is not a function is a bad command line
 * (exit 2), and the error lists the functions the module does export.
 */
export async function loadHandler(file: string, ref: HandlerRef): Promise<LoadedHandler> {
  if (TYPESCRIPT.test(file)) await loadTypeScript();
  const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  // A CommonJS module's exports arrive as `default`.
  const exports = { ...(module.default as Record<string, unknown> | undefined), ...module };
  const handler = exports[ref.exportName];
  if (typeof handler !== 'function') {
    const functions = Object.keys(exports).filter((name) => typeof exports[name] === 'function');
    throw new CliError(
      `--handler: ${file} has no exported function "${ref.exportName}"; ${
        functions.length
          ? `it exports ${functions.map((f) => `"${f}"`).join(', ')}: name one as ${ref.file}#NAME.`
          : 'it exports no function.'
      }`,
      EXIT.usage,
    );
  }
  return handler as LoadedHandler;
}
