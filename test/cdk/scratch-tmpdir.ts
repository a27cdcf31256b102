// aws-cdk-lib synthesizes an App that has no outdir into a new directory under os.tmpdir()
// and never removes it (about 150 per run). Each test file gets its own temporary directory,
// removed when the file is done, so that a test run leaves nothing behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const systemTmp = tmpdir();
const scratch = mkdtempSync(path.join(systemTmp, 'cdk-test-'));
process.env.TMPDIR = scratch;

afterAll(() => {
  process.env.TMPDIR = systemTmp;
  rmSync(scratch, { recursive: true, force: true });
});
