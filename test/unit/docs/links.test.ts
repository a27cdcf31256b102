// Every relative link of the README, CONTRIBUTING, CHANGELOG and docs/*.md points to a file or
// folder that exists and, with a #fragment, to a heading of that page (as GitHub makes anchors).
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { docPages, ROOT } from './pages.js';

/** Markdown links outside code: fenced blocks and inline code spans are left out. */
export function relativeLinks(text: string): string[] {
  const prose = text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces to dashes, repeats numbered. */
export function headingAnchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, '').matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** What is wrong with one page's links, as `page: target (why)`. */
function brokenLinks(page: string): string[] {
  const text = readFileSync(path.join(ROOT, page), 'utf8');
  return relativeLinks(text).flatMap((target) => {
    const [file, fragment] = target.split('#') as [string, string | undefined];
    const resolved = file === '' ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), decodeURIComponent(file));
    if (!existsSync(resolved)) return [`${page}: ${target} (no such file or folder)`];
    if (fragment === undefined) return [];
    if (statSync(resolved).isDirectory() || !resolved.endsWith('.md'))
      return [`${page}: ${target} (a #fragment on what is not a Markdown page)`];
    return headingAnchors(readFileSync(resolved, 'utf8')).has(fragment) ? [] : [`${page}: ${target} (no such heading)`];
  });
}

describe('links between the pages', () => {
  it('all resolve', () => {
    expect(docPages().flatMap(brokenLinks)).toEqual([]);
  });

  it('are read from prose only, and anchors are made as GitHub makes them', () => {
    const page = [
      '# The emulator (`local/esm/emulator.ts`)',
      '## Limits',
      '## Limits',
      'See [a](a.md#x) and [web](https://x.y/z).',
      '`[no](code.md)`',
      '```md',
      '[no](fence.md)',
      '```',
    ].join('\n');
    expect(relativeLinks(page)).toEqual(['a.md#x']);
    expect([...headingAnchors(page)]).toEqual(['the-emulator-localesmemulatorts', 'limits', 'limits-1']);
  });
});
