import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The files a page gives whole, by path: ```ts blocks whose first line is `// <path>`, and
 * blocks whose fence names the file (```json cdk.json).
 */
export function docFiles(page: string): Map<string, string> {
  const files = new Map<string, string>();
  const blocks = readFileSync(path.join(ROOT, page), 'utf8').matchAll(/^```(\w+)(?: (\S+))?\n([\s\S]*?)^```$/gm);
  for (const [, lang, named, code] of blocks) {
    const commented = lang === 'ts' ? /^\/\/ (\S+\.ts)\n/.exec(code!)?.[1] : undefined;
    const file = named ?? commented;
    if (file) files.set(file, code!);
  }
  return files;
}

/** The command of a page's ```sh blocks that starts with `prefix`, its continuation lines joined. */
export function docCommand(page: string, prefix: string): string {
  const text = readFileSync(path.join(ROOT, page), 'utf8').replaceAll('\\\n', ' ');
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  if (!line) throw new Error(`${page} has no command starting with "${prefix}"`);
  return line.replace(/\s+/g, ' ').trim();
}
