// Every TypeScript block of the README and the docs compiles against the package's sources, as a
// user's file importing `kafka-lambda-consumers` would (tsconfig.docs.json maps the names).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { docPages, ROOT } from './pages.js';

interface Snippet {
  readonly page: string;
  readonly line: number;
  readonly code: string;
}

/** ```ts (or ```typescript) blocks; ```ts nocompile marks a fragment that cannot be a program. */
export function tsSnippets(page: string, text: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(ts|typescript)(\s+nocompile)?\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${page}:${i + 1}: a \`\`\`${fence[1]} block is never closed`);
    if (!fence[2]) snippets.push({ page, line: i + 1, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return snippets;
}

/** Type errors of the snippets, as `page:line: message` (line in the page). */
function compile(snippets: Snippet[]): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.docs.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  )!;
  // Each snippet is a file of its own at the repository's root, so that its relative imports
  // (the emulator's, say) resolve from there; nothing is written to disk.
  const files = new Map(snippets.map((s) => [path.join(ROOT, `${s.page.replaceAll('/', '~')}-L${s.line}.snippet.ts`), s]));
  const host = ts.createCompilerHost(config.options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, language, ...rest) => {
    const snippet = files.get(path.resolve(name));
    return snippet ? ts.createSourceFile(name, snippet.code, language, true) : getSourceFile.call(host, name, language, ...rest);
  };
  host.fileExists = (name) => files.has(path.resolve(name)) || fileExists.call(host, name);
  host.readFile = (name) => files.get(path.resolve(name))?.code ?? readFile.call(host, name);
  const program = ts.createProgram({ rootNames: [...files.keys()], options: { ...config.options, noEmit: true }, host });
  const errors = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()].map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
  for (const [name, snippet] of files) {
    const source = program.getSourceFile(name)!;
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const { line } = source.getLineAndCharacterOfPosition(d.start ?? 0);
      errors.push(`${snippet.page}:${snippet.line + 1 + line}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  }
  return errors;
}

describe('the TypeScript snippets of the README and docs/', () => {
  const snippets = docPages().flatMap((page) => tsSnippets(page, readFileSync(path.join(ROOT, page), 'utf8')));

  it('are found (the README has its stack and handler)', () => {
    expect(snippets.filter((s) => s.page === 'README.md')).toHaveLength(2);
    expect(snippets.length).toBeGreaterThanOrEqual(8);
  });

  it('compile against the package sources', () => {
    expect(compile(snippets)).toEqual([]);
  }, 120_000);

  it('skip only blocks marked nocompile, and say where an unclosed block opens', () => {
    const page = ['```ts', 'const a: number = 1;', '```', '```ts nocompile', 'fragment(', '```', '```typescript', 'export {};', '```'].join(
      '\n',
    );
    expect(tsSnippets('x.md', page).map((s) => [s.line, s.code])).toEqual([
      [1, 'const a: number = 1;'],
      [7, 'export {};'],
    ]);
    expect(() => tsSnippets('x.md', '```ts\nlet a')).toThrow('x.md:1: a ```ts block is never closed');
  });
});
