// The example consumer as `npm start` and `npm run chaos` run it, in a sandbox: its business
// logic wrapped so that the ground truth learns of every record it finished.
import { kafkaConsumer } from '../functions/runtime';
import { processOrder } from '../functions/consumer/index';
import { recording } from './ground-truth';

export const handler = kafkaConsumer({ processRecord: recording(processOrder) });
