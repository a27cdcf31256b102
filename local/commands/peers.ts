// The local tools' own dependencies, which the package leaves to its users (optional peer
// dependencies): they serve this machine only and must never reach a Lambda bundle.
import { CliError } from '../../src/cli/exit-codes.js';

/** The one install line that gives a package user everything the `local` commands load. */
export const LOCAL_TOOLS_INSTALL = 'npm install --save-dev fauxqs dynalite tsx';

/**
 * Imports an optional peer dependency; when it is not installed, the error names it, what needs
 * it, and the install line.
 */
export async function importPeer<T>(specifier: string, neededFor: string): Promise<T> {
  const name = specifier.startsWith('@') ? specifier.split('/', 2).join('/') : specifier.split('/')[0]!;
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(`'${name}'`))
      throw new CliError(
        `${neededFor} needs ${name}, which is not installed here. Install the local tools' dependencies: ${LOCAL_TOOLS_INSTALL}`,
      );
    throw error;
  }
}
