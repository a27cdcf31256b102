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
