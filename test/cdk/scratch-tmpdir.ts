// aws-cdk-lib synthesizes an App that has no outdir into a new directory under os.tmpdir()
// and never removes it (about 150 per run). Each test file gets its own temporary directory,
// removed when the file is done, so that a test run leaves nothing behind in /tmp. The
// `cdk synth --output` runs of the app tests write under it too, so every template a test
// file synthesized is there at the end: cfn-lint checks them all in one process, then.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect } from 'vitest';
import { CFN_LINT_INSTALL_HINT, cfnLintInstalled, lintTemplateFiles, templateFilesUnder } from '../support/cfn-lint.js';

const systemTmp = tmpdir();
const scratch = mkdtempSync(path.join(systemTmp, 'cdk-test-'));
process.env.TMPDIR = scratch;

/** Each template file found so far, with the test that synthesized it. */
const synthesizedBy = new Map<string, string>();
afterEach(() => {
  const test = expect.getState().currentTestName ?? 'module scope';
  for (const file of templateFilesUnder(scratch)) if (!synthesizedBy.has(file)) synthesizedBy.set(file, test);
});

afterAll(() => {
  try {
    lintSynthesizedTemplates();
  } finally {
    process.env.TMPDIR = systemTmp;
    rmSync(scratch, { recursive: true, force: true });
  }
});

function lintSynthesizedTemplates() {
  for (const file of templateFilesUnder(scratch)) if (!synthesizedBy.has(file)) synthesizedBy.set(file, 'a hook');
  const tests = [...new Set(synthesizedBy.values())];
  if (!cfnLintInstalled()) {
    if (tests.length) console.warn(`${CFN_LINT_INSTALL_HINT}. Not linted: the templates of ${tests.map((t) => `"${t}"`).join(', ')}.`);
    return;
  }
  // Identical templates (many tests synthesize the defaults) are linted once.
  const byContent = new Map<string, string>();
  for (const file of synthesizedBy.keys()) byContent.set(readFileSync(file, 'utf8'), file);
  const findings = lintTemplateFiles([...byContent.values()]);
  if (findings.length) {
    const origin = (line: string) => [...synthesizedBy].find(([file]) => line.includes(file))?.[1];
    throw new Error(
      `cfn-lint refuses templates these tests synthesized (fix them, or list the check in .cfnlintrc with the reason):\n${findings.map((f) => `- ${f}\n  (synthesized by "${origin(f)}")`).join('\n')}`,
    );
  }
}
