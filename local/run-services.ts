// `npm run services`: the local infrastructure in the foreground, like `docker compose up`.
// Prints NAME=value lines for a shell (`eval` them or copy them), then READY.
import { startLocalServices } from './services.js';

const services = await startLocalServices();
for (const [name, value] of Object.entries(services.env)) console.log(`${name}=${value}`);
console.log('READY');

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  console.error('stopping local services…');
  await services.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
