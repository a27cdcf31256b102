// The example consumer as `npm start` and `npm run chaos` run it, in a sandbox: its business
// logic wrapped so that the ground truth learns of every record it finished.
import { kafkaConsumer } from '../src/runtime/index.js';
import { processOrder } from '../app/consumer/index.js';
import { recording } from './ground-truth.js';

export const handler = kafkaConsumer({ processRecord: recording(processOrder) });
