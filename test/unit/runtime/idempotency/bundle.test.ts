// The ledger is bundled only by the handlers that import it (issue 32: "without the option, no
// import"): esbuild bundles a function into one CommonJS file, so anything the runtime's core
// imports, even lazily, would land in every consumer's bundle.
import { describe, expect, it } from 'vitest';
import { ROOT, bundleHandler } from '../../../support/consumer-bundle.js';

const LEDGER = 'src/runtime/idempotency/';

/** The repository's source files in a handler's bundle. */
async function bundledSources(entry?: Parameters<typeof bundleHandler>[0]): Promise<string[]> {
  return Object.keys((await bundleHandler(entry)).inputs).filter((file) => file.startsWith('src/'));
}

describe("the idempotency ledger's entry point", () => {
  it("is not in the example consumer's bundle, which does not use it", async () => {
    const sources = await bundledSources();
    expect(sources).toContain('src/runtime/batch-processor.ts');
    expect(sources.filter((file) => file.startsWith(LEDGER))).toEqual([]);
  });

  it('is in the bundle of a handler that imports it', async () => {
    const contents = `
      import { kafkaConsumer } from './src/runtime/index.js';
      import { idempotencyLedger } from './src/runtime/idempotency/index.js';
      export const handler = kafkaConsumer({ processRecord: () => undefined, idempotency: idempotencyLedger() });`;
    const sources = await bundledSources({ stdin: { contents, loader: 'ts', resolveDir: ROOT, sourcefile: 'handler.ts' } });
    expect(sources).toEqual(
      expect.arrayContaining([`${LEDGER}idempotency-guard.ts`, `${LEDGER}dynamodb-store.ts`, `${LEDGER}settings.ts`]),
    );
  });
});
