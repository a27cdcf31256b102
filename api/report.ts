// The package's public surface, one API report per entry point (api/*.api.md), made by
// @microsoft/api-extractor from the declarations `tsc -p tsconfig.build.json` emits.
//   npm run api         regenerates the reports (commit them with the change)
//   npm run api:check   fails when the surface differs from the committed reports (run by `npm test`)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Each entry point of package.json's `exports` (".", "./runtime", …), by the declaration file it points at under dist/. */
const ENTRY_POINTS = {
  constructs: 'constructs/index.d.ts',
  runtime: 'runtime/index.d.ts',
  'runtime-avro': 'runtime/avro.d.ts',
  'runtime-protobuf': 'runtime/protobuf.d.ts',
  'runtime-idempotency': 'runtime/idempotency/index.d.ts',
} as const;

const check = process.argv.includes('--check');
const declarations = mkdtempSync(join(tmpdir(), 'api-'));
try {
  // Declarations only, into a directory of their own: dist/ stays what `npm run build` made.
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--outDir', declarations], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  const changed = Object.entries(ENTRY_POINTS).filter(([name, file]) => !extract(name, join(declarations, file)));
  if (changed.length) {
    console.error(
      check
        ? `The public API changed: ${changed.map(([name]) => `api/${name}.api.md`).join(', ')} do not match the declarations. If the change is meant, run \`npm run api\` and commit the reports.`
        : `Updated ${changed.map(([name]) => `api/${name}.api.md`).join(', ')}: review and commit.`,
    );
    if (check) process.exitCode = 1;
  }
} finally {
  rmSync(declarations, { recursive: true, force: true });
}

/** Writes (or, with --check, compares) one entry point's report. @returns whether it was unchanged */
function extract(name: string, entryPoint: string): boolean {
  const config = ExtractorConfig.prepare({
    configObjectFullPath: join(ROOT, 'api', 'api-extractor.json'), // not read: where relative paths start
    packageJsonFullPath: join(ROOT, 'package.json'),
    configObject: {
      projectFolder: ROOT,
      mainEntryPointFilePath: entryPoint,
      compiler: {
        overrideTsconfig: {
          compilerOptions: { lib: ['ES2023'], types: ['node'], skipLibCheck: true, module: 'nodenext', moduleResolution: 'nodenext' },
          files: [entryPoint],
        },
      },
      apiReport: { enabled: true, reportFileName: name, reportFolder: join(ROOT, 'api'), reportTempFolder: join(declarations, 'report') },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // No release tags (@public, @beta): everything exported is public.
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning },
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None },
        },
        // The JSDoc is written for TypeDoc and editors, not checked as TSDoc.
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false });
  // Warnings (a type used but not exported, a link that resolves to nothing) are printed and kept in the report.
  if (result.errorCount > 0) throw new Error(`api-extractor failed on ${entryPoint}: ${result.errorCount} errors (printed above).`);
  return !result.apiReportChanged;
}
