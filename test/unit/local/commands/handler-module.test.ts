import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError, EXIT } from '../../../../src/cli/exit-codes.js';
import { handlerFile, loadHandler } from '../../../../local/commands/handler-module.js';

const dir = mkdtempSync(path.join(tmpdir(), 'handler-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const module = path.join(dir, 'pay.mjs');
writeFileSync(module, 'export const onPayment = async (event) => ({ got: event });\nexport const notAFunction = 1;\n');

describe("a user's handler, as --handler names it", () => {
  it('is loaded by file and export', async () => {
    const handler = await loadHandler(handlerFile({ file: 'pay.mjs', exportName: 'onPayment' }, dir), {
      file: 'pay.mjs',
      exportName: 'onPayment',
    });
    expect(await handler(1, {})).toEqual({ got: 1 });
  });

  it('names a file that does not exist, as a bad command line (exit 2)', () => {
    const error = (() => {
      try {
        handlerFile({ file: 'src/missing.ts', exportName: 'handler' }, dir);
      } catch (e) {
        return e as CliError;
      }
    })();
    expect(error).toBeInstanceOf(CliError);
    expect(error?.exitCode).toBe(EXIT.usage);
    expect(error?.message).toBe(`--handler: ${path.join(dir, 'src/missing.ts')} does not exist (given as "src/missing.ts", from ${dir}).`);
  });

  it('names an export that is not a function, and the functions the module does export (exit 2)', async () => {
    const ref = { file: 'pay.mjs', exportName: 'handler' };
    await expect(loadHandler(module, ref)).rejects.toThrow(
      new CliError(
        `--handler: ${module} has no exported function "handler"; it exports "onPayment": name one as pay.mjs#NAME.`,
        EXIT.usage,
      ),
    );
    await expect(loadHandler(module, { ...ref, exportName: 'notAFunction' })).rejects.toMatchObject({ exitCode: EXIT.usage });
  });
});
