// cfn-lint (AWS's CloudFormation linter) on the templates the tests synthesize. aws-cdk-lib's
// schema check sees property shapes only; cfn-lint also checks value ranges, relationships,
// IAM policy shapes and intrinsic functions, offline. It is a Python tool (`pip install
// cfn-lint`): where it is missing the lint is skipped with a message, and `.ci/run` requires it.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The one list of checks the project ignores, each with its reason. */
export const CFN_LINT_CONFIG = fileURLToPath(new URL('../../.cfnlintrc', import.meta.url));

export const CFN_LINT_INSTALL_HINT =
  "cfn-lint is not installed: install it with `pip install cfn-lint` (AWS's CloudFormation linter, 1.51 or later)";

let installed: boolean | undefined;
/** Whether `cfn-lint` runs here (asked once per process). */
export function cfnLintInstalled(): boolean {
  installed ??= spawnSync('cfn-lint', ['--version'], { stdio: 'ignore' }).status === 0;
  return installed;
}

/** One cfn-lint finding, as its JSON output gives it. */
interface Finding {
  readonly Rule: { readonly Id: string };
  readonly Level: string;
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path?: ReadonlyArray<string | number> };
}

/**
 * Lints the template files in one cfn-lint process (its start-up costs ~3 s, each template
 * ~0.5 s) and returns one line per finding that `.cfnlintrc` does not ignore: errors and
 * warnings alike, since a warning is either fixed or listed there with its reason.
 */
export function lintTemplateFiles(files: readonly string[]): string[] {
  if (files.length === 0) return [];
  const result = spawnSync('cfn-lint', ['--config-file', CFN_LINT_CONFIG, '--format', 'json', '--', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`cfn-lint did not run: ${result.error.message}. ${CFN_LINT_INSTALL_HINT}.`);
  let findings: Finding[];
  try {
    findings = JSON.parse(result.stdout || '[]') as Finding[];
  } catch {
    throw new Error(`cfn-lint failed (exit ${result.status}): ${result.stderr || result.stdout}`);
  }
  return findings.map((f) => `${f.Level} ${f.Rule.Id} in ${f.Filename} at ${(f.Location.Path ?? []).join('/')}: ${f.Message}`);
}

/** Every `*.template.json` under `dir` (cloud assemblies nest one level or two). */
export function templateFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.template.json'))
    .map((f) => path.join(dir, f));
}
