import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { expectedResultsPage, RESULTS_PAGE } from '../../../bench/results-page.js';

describe('docs/results.md', () => {
  it('is what bench/results.json and bench/chaos-results.json say (run `npm run docs:results` after a bench or chaos run)', () => {
    expect(readFileSync(RESULTS_PAGE, 'utf8'), `${RESULTS_PAGE} is stale: run npm run docs:results`).toBe(expectedResultsPage());
  });
});
