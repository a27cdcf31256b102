import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as KafkaJs from 'kafkajs';
import type { KafkaConfig, OauthbearerProviderResponse, SASLOptions } from 'kafkajs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { connectProducer, createKafka } from '../../functions/runtime/kafka-connection';

// The real kafkajs client, built as usual; the test only records the config it was given.
const built = vi.hoisted(() => [] as KafkaConfig[]);
vi.mock('kafkajs', async (importOriginal) => {
  const kafkajs = await importOriginal<typeof KafkaJs>();
  class Kafka extends kafkajs.Kafka {
    constructor(config: KafkaConfig) {
      super(config);
      built.push(config);
    }
  }
  return { ...kafkajs, Kafka };
});

afterEach(() => {
  built.length = 0;
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const configFor = async (env: NodeJS.ProcessEnv) => {
  await createKafka({ KAFKA_BROKERS: ' b-1:9098, b-2:9098 ,', ...env });
  return built.at(-1)!;
};
/** The Secrets Manager call at the module boundary: the secret's text, and the requests made. */
const secretHolding = (SecretString: string | undefined) =>
  vi.spyOn(SecretsManagerClient.prototype, 'send').mockImplementation(async () => ({ SecretString, $metadata: {} }));

describe('createKafka', () => {
  it('needs KAFKA_BROKERS and says what to give', async () => {
    for (const brokers of [undefined, '', ' , ']) {
      await expect(createKafka({ KAFKA_BROKERS: brokers })).rejects.toMatchObject({
        name: 'ConfigurationError',
        message: 'KAFKA_BROKERS is not set: give the bootstrap servers as host:port[,host:port...].',
      });
    }
  });

  it('refuses an unknown KAFKA_AUTH, listing the modes', async () => {
    await expect(createKafka({ KAFKA_BROKERS: 'b:9092', KAFKA_AUTH: 'plain' })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'KAFKA_AUTH is "plain"; it must be one of iam, scram-sha-512, scram-sha-256, tls, none.',
    });
  });

  it('connects in plain text without SASL by default, to every broker listed', async () => {
    const config = await configFor({});
    expect(config).toMatchObject({ clientId: 'kafka-lambda', brokers: ['b-1:9098', 'b-2:9098'], ssl: false });
    expect(config.sasl).toBeUndefined();
    expect((await configFor({ KAFKA_AUTH: 'none' })).ssl).toBe(false);
  });

  it('uses TLS without SASL for KAFKA_AUTH=tls', async () => {
    const config = await configFor({ KAFKA_AUTH: 'tls' });
    expect(config.ssl).toBe(true);
    expect(config.sasl).toBeUndefined();
  });

  // CONTRACTS §6: aws-msk-iam-sasl-signer-js produces an OAUTHBEARER token that kafkajs accepts
  // through sasl: { mechanism: 'oauthbearer' }; MSK IAM listeners are TLS only (port 9098).
  it('signs an OAUTHBEARER token for the region with KAFKA_AUTH=iam, over TLS', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    const config = await configFor({ KAFKA_AUTH: 'iam', AWS_REGION: 'eu-west-1' });
    expect(config.ssl).toBe(true);
    const sasl = config.sasl as Extract<SASLOptions, { mechanism: 'oauthbearer' }>;
    expect(sasl.mechanism).toBe('oauthbearer');
    const { value } = (await sasl.oauthBearerProvider()) as OauthbearerProviderResponse;
    const signed = new URL(Buffer.from(value, 'base64url').toString());
    expect(signed.host).toBe('kafka.eu-west-1.amazonaws.com');
    expect(signed.searchParams.get('Action')).toBe('kafka-cluster:Connect');
    expect(signed.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\/\d{8}\/eu-west-1\/kafka-cluster\/aws4_request$/);
  });

  it('needs AWS_REGION for KAFKA_AUTH=iam', async () => {
    await expect(createKafka({ KAFKA_BROKERS: 'b:9098', KAFKA_AUTH: 'iam' })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'KAFKA_AUTH=iam needs AWS_REGION (the region of the MSK cluster).',
    });
  });

  // MSK developer guide, "Set up SASL/SCRAM authentication for an Amazon MSK cluster": "Your sign-in
  // credential data must be in the following format ... { "username": "alice", "password": "alice-secret" }".
  it.each(['scram-sha-512', 'scram-sha-256'] as const)('reads username and password from the secret for KAFKA_AUTH=%s, over TLS', async (mechanism) => {
    const send = secretHolding('{"username":"alice","password":"alice-secret"}');
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_demo';
    const config = await configFor({ KAFKA_AUTH: mechanism, KAFKA_SASL_SECRET_ARN: arn });
    expect(config.ssl).toBe(true);
    expect(config.sasl).toEqual({ mechanism, username: 'alice', password: 'alice-secret' });
    expect(send).toHaveBeenCalledTimes(1);
    const [command] = send.mock.calls[0]!;
    expect(command).toBeInstanceOf(GetSecretValueCommand);
    expect((command as GetSecretValueCommand).input).toEqual({ SecretId: arn });
  });

  it('needs KAFKA_SASL_SECRET_ARN for SCRAM, and reads nothing without it', async () => {
    const send = secretHolding('{}');
    await expect(createKafka({ KAFKA_BROKERS: 'b:9096', KAFKA_AUTH: 'scram-sha-512' })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'KAFKA_AUTH=scram-sha-512 needs KAFKA_SASL_SECRET_ARN (a secret holding {"username","password"}).',
    });
    expect(send).not.toHaveBeenCalled();
  });

  it('names the secret when it does not hold a string username and password', async () => {
    const env = { KAFKA_BROKERS: 'b:9096', KAFKA_AUTH: 'scram-sha-256', KAFKA_SASL_SECRET_ARN: 'arn:secret' };
    const message = 'The secret arn:secret must be JSON with string fields "username" and "password".';
    for (const text of [undefined, '{"username":"alice"}', '{"password":"p"}', '{"username":1,"password":"p"}', '{"username":"alice","password":null}', 'null', 'alice:secret']) {
      secretHolding(text);
      await expect(createKafka(env), String(text)).rejects.toMatchObject({ name: 'ConfigurationError', message });
      vi.restoreAllMocks();
    }
  });
});

describe('connectProducer', () => {
  it('rejects a KAFKA_IDEMPOTENT_PRODUCER that is neither true nor false, naming it, before connecting', async () => {
    const kafka = await createKafka({ KAFKA_BROKERS: '127.0.0.1:9' }); // nothing listens: a connect would fail otherwise
    await expect(connectProducer(kafka, { KAFKA_IDEMPOTENT_PRODUCER: 'no' })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'KAFKA_IDEMPOTENT_PRODUCER is "no"; it must be true (the default) or false.',
    });
  });
});
