// The import-direction rule (eslint.config.js's LAYERS) must fail on an import against the
// direction, through the same resolver `npm run lint` uses, and pass one along it.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
const lint = async (filePath: string, code: string) => (await eslint.lintText(code, { filePath }))[0]!.messages.map((m) => m.ruleId);

describe('the layers', () => {
  it.each([
    ['src/runtime/x.ts', "import { DlqReplayer } from '../replay/replayer.js';\nexport const x = DlqReplayer;\n"],
    ['src/contract/x.ts', "import { ENV } from '../../app/demo-values.js';\nexport const x = ENV;\n"],
    ['src/kafka/x.ts', "import { RetryPolicy } from '../runtime/retry.js';\nexport const x = RetryPolicy;\n"],
    ['src/constructs/x.ts', "import { createKafka } from '../kafka/kafka-connection.js';\nexport const x = createKafka;\n"],
    ['app/x.ts', "import { startLocalServices } from '../local/services.js';\nexport const x = startLocalServices;\n"],
    ['src/cli/x.ts', "import { DlqReplayer } from '../replay/replayer.js';\nexport const x = DlqReplayer;\n"],
    ['src/breaker/x.ts', "import { createKafka } from '../kafka/kafka-connection.js';\nexport const x = createKafka;\n"],
    ['src/kafka/x.ts', "import { onOutage } from '../breaker/breaker-state.js';\nexport const x = onOutage;\n"],
  ])('refuses an import against the direction in %s', async (file, code) => {
    expect(await lint(file, code)).toContain('import-x/no-restricted-paths');
  });

  it('accepts an import along it', async () => {
    expect(await lint('src/replay/x.ts', "import { RetryPolicy } from '../runtime/retry.js';\nexport const x = RetryPolicy;\n")).toEqual(
      [],
    );
  });

  it('refuses a relative import that does not name the emitted file, and one that resolves nowhere', async () => {
    expect(await lint('src/replay/x.ts', "import { RetryPolicy } from '../runtime/retry';\nexport const x = RetryPolicy;\n")).toContain(
      'no-restricted-imports',
    );
    expect(
      await lint('src/replay/x.ts', "import { RetryPolicy } from '../runtime/nothing.js';\nexport const x = RetryPolicy;\n"),
    ).toContain('import-x/no-unresolved');
  });
});
