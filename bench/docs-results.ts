// `npm run docs:results`: writes docs/results.md from bench/results.json and bench/chaos-results.json.
import { writeFileSync } from 'node:fs';
import { expectedResultsPage, RESULTS_PAGE } from './results-page.js';

writeFileSync(RESULTS_PAGE, expectedResultsPage());
console.log(`wrote ${RESULTS_PAGE}`);
