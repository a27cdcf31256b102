import { afterAll, beforeAll } from 'vitest';
import { startLocalServices, type LocalEnvironment } from '../../local/services.js';

/**
 * The local services' environment with the idempotency ledger asked for, as `local services
 * --idempotency` gives it: the shared services (the test run's) are reached, nothing new starts.
 */
export async function ledgerEnvOf(env: LocalEnvironment, extra: NodeJS.ProcessEnv = {}): Promise<LocalEnvironment> {
  const services = await startLocalServices({ withKafka: false, environment: { ...env, KAFKA_BROKERS: '', ...extra }, idempotency: true });
  await services.stop();
  return services.env;
}

/**
 * Points this test file's process at the shared local services as a function in Lambda sees them
 * (the runtime's SDK clients read these variables), with the ledger's table asked for, plus
 * `extra(table)`; restores the environment after the file. Returns the table's name once set.
 */
export function useLocalServicesEnv(env: LocalEnvironment, extra: (table: string) => NodeJS.ProcessEnv = () => ({})): () => string {
  const saved = { ...process.env };
  let table: string | undefined;
  beforeAll(async () => {
    table = (await ledgerEnvOf(env)).IDEMPOTENCY_TABLE!;
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: env.AWS_ENDPOINT_URL,
      AWS_ENDPOINT_URL_DYNAMODB: env.AWS_ENDPOINT_URL_DYNAMODB,
      AWS_REGION: env.AWS_REGION,
      AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
      ...extra(table),
    });
  });
  afterAll(() => {
    process.env = saved;
  });
  return () => table!;
}
