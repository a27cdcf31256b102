import { bundle } from './bundles.js';
const b = await bundle('app/consumer/index.ts', 'consumer-size');
console.log(b.bytes);
