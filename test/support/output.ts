import { vi } from 'vitest';

/** What the code under test writes (logs and EMF, stdout and stderr), one parsed object per JSON line. Undone by `vi.restoreAllMocks()`. */
export function captureOutput() {
  const lines: Array<Record<string, unknown>> = [];
  const capture = (chunk: unknown) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  return lines;
}
