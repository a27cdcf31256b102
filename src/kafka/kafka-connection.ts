import { Kafka, logLevel, type KafkaConfig, type Producer, type SASLOptions, type logCreator } from 'kafkajs';
import { ENV } from '../contract/index.js';
import { ConfigurationError } from '../contract/errors.js';
import { registerKafkaCodecs } from './kafka-codecs.js';
import { assertKafkajsPatched } from './kafkajs-patches.js';

/** How the functions authenticate to the brokers (`KAFKA_AUTH`). */
export type KafkaAuth = 'iam' | 'scram-sha-512' | 'scram-sha-256' | 'tls' | 'none';
const AUTH_MODES: readonly KafkaAuth[] = ['iam', 'scram-sha-512', 'scram-sha-256', 'tls', 'none'];

// kafkajs logs to stdout by default; ours go to stderr as JSON so stdout stays for results.
// The level is kafkajs's `label` ("ERROR", "WARN"...): its `logLevel` has no names by number.
const stderrLog: logCreator =
  () =>
  ({ namespace, label, log }) => {
    const { message, ...extra } = log;
    process.stderr.write(`${JSON.stringify({ level: label, logger: `kafkajs.${namespace}`, message, ...extra })}\n`);
  };

/**
 * Builds a kafkajs client from the environment the CDK construct (or `npm run services`) sets:
 * `KAFKA_BROKERS` (comma separated, required), `KAFKA_AUTH` (default `none`; `iam` signs
 * with aws-msk-iam-sasl-signer-js, `scram-*` reads `{username, password}` from the Secrets
 * Manager secret `KAFKA_SASL_SECRET_ARN`) and `AWS_REGION`. The client reads and writes
 * every compression codec Kafka defines (gzip, snappy, lz4, zstd).
 */
export async function createKafka(env: NodeJS.ProcessEnv = process.env, clientId = 'kafka-lambda'): Promise<Kafka> {
  const brokers = (env[ENV.kafkaBrokers] ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) {
    throw new ConfigurationError(`${ENV.kafkaBrokers} is not set: give the bootstrap servers as host:port[,host:port...].`);
  }
  const auth = (env[ENV.kafkaAuth] ?? 'none') as KafkaAuth;
  if (!AUTH_MODES.includes(auth)) {
    throw new ConfigurationError(`${ENV.kafkaAuth} is "${auth}"; it must be one of ${AUTH_MODES.join(', ')}.`);
  }
  assertKafkajsPatched(); // every client here relies on patches/: a kafkajs without them fails here, not on a record
  registerKafkaCodecs(); // every client here reads (and the replay writes) all of Kafka's codecs
  const config: KafkaConfig = { clientId, brokers, logLevel: logLevel.WARN, logCreator: stderrLog, ssl: auth !== 'none' };
  if (auth === 'iam') config.sasl = await iamSasl(env);
  if (auth.startsWith('scram-')) config.sasl = await scramSasl(auth as 'scram-sha-512' | 'scram-sha-256', env);
  return new Kafka(config);
}

/**
 * Connects the producer the replay writes with: idempotent (one request in flight, so a retry
 * cannot reorder or duplicate) unless `KAFKA_IDEMPOTENT_PRODUCER=false`; never creates topics.
 * A failed connect closes what it opened: kafkajs leaves those sockets open, which keeps a local
 * process running after its answer and, on Lambda, carries them frozen into the next invocation.
 */
export async function connectProducer(kafka: Kafka, env: NodeJS.ProcessEnv = process.env): Promise<Producer> {
  const setting = env[ENV.kafkaIdempotentProducer] ?? 'true';
  if (setting !== 'true' && setting !== 'false') {
    throw new ConfigurationError(`${ENV.kafkaIdempotentProducer} is "${setting}"; it must be true (the default) or false.`);
  }
  const idempotent = setting === 'true';
  const producer = kafka.producer({
    idempotent,
    allowAutoTopicCreation: false,
    retry: { retries: 3 },
    ...(idempotent ? { maxInFlightRequests: 1 } : {}),
  });
  try {
    await producer.connect();
    return producer;
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    if (idempotent && (error as Error).name === 'KafkaJSBrokerNotFound') await explainMissingController(kafka, env);
    throw error;
  }
}

// kafkajs asks the controller the cluster's metadata names for an idempotent producer id. A
// cluster that names a controller which is none of its brokers (librdkafka's mock broker, the
// embedded one, names 0 and numbers its brokers from 1) can never serve it: say which setting to change.
async function explainMissingController(kafka: Kafka, env: NodeJS.ProcessEnv): Promise<void> {
  const admin = kafka.admin();
  let cluster: Awaited<ReturnType<typeof admin.describeCluster>>;
  try {
    await admin.connect();
    cluster = await admin.describeCluster();
  } catch {
    return; // the original error says more
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  const ids = cluster.brokers.map((b) => b.nodeId);
  if (cluster.controller === null || ids.includes(cluster.controller)) return; // no controller yet (an election), or a usable one
  throw new ConfigurationError(
    `The brokers ${env[ENV.kafkaBrokers]} cannot serve an idempotent producer: their metadata names broker ${cluster.controller} as controller, ` +
      `which is none of their brokers (${ids.join(', ')}); librdkafka's mock broker (the embedded one of npm run services) does this. ` +
      `Set ${ENV.kafkaIdempotentProducer}=false for such a cluster; keep it on against real clusters.`,
  );
}

async function iamSasl(env: NodeJS.ProcessEnv): Promise<SASLOptions> {
  const region = env.AWS_REGION;
  if (!region) throw new ConfigurationError(`${ENV.kafkaAuth}=iam needs AWS_REGION (the region of the MSK cluster).`);
  const { generateAuthToken } = await import('aws-msk-iam-sasl-signer-js');
  return {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => ({ value: (await generateAuthToken({ region })).token }),
  };
}

async function scramSasl(mechanism: 'scram-sha-512' | 'scram-sha-256', env: NodeJS.ProcessEnv): Promise<SASLOptions> {
  const secretId = env[ENV.kafkaSaslSecretArn];
  if (!secretId)
    throw new ConfigurationError(
      `${ENV.kafkaAuth}=${mechanism} needs ${ENV.kafkaSaslSecretArn} (a secret holding {"username","password"}).`,
    );
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  client.destroy();
  let secret: { username?: unknown; password?: unknown } | null = null;
  try {
    secret = JSON.parse(SecretString ?? '{}');
  } catch {
    // not JSON: the error below names the secret, which a SyntaxError would not
  }
  if (typeof secret?.username !== 'string' || typeof secret.password !== 'string') {
    throw new ConfigurationError(`The secret ${secretId} must be JSON with string fields "username" and "password".`);
  }
  return { mechanism, username: secret.username, password: secret.password };
}
