import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as KafkaJs from 'kafkajs';
import { logLevel, type KafkaConfig, type OauthbearerProviderResponse, type SASLOptions } from 'kafkajs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { connectProducer, createKafka } from '../../../src/kafka/kafka-connection.js';

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

  // docs/aws-contracts.md §6: aws-msk-iam-sasl-signer-js produces an OAUTHBEARER token that kafkajs accepts
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
  it.each(['scram-sha-512', 'scram-sha-256'] as const)(
    'reads username and password from the secret for KAFKA_AUTH=%s, over TLS',
    async (mechanism) => {
      const send = secretHolding('{"username":"alice","password":"alice-secret"}');
      const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_demo';
      const config = await configFor({ KAFKA_AUTH: mechanism, KAFKA_SASL_SECRET_ARN: arn });
      expect(config.ssl).toBe(true);
      expect(config.sasl).toEqual({ mechanism, username: 'alice', password: 'alice-secret' });
      expect(send).toHaveBeenCalledTimes(1);
      const [command] = send.mock.calls[0]!;
      expect(command).toBeInstanceOf(GetSecretValueCommand);
      expect((command as GetSecretValueCommand).input).toEqual({ SecretId: arn });
    },
  );

  it('closes the Secrets Manager client once it has read the secret', async () => {
    secretHolding('{"username":"alice","password":"alice-secret"}');
    const destroy = vi.spyOn(SecretsManagerClient.prototype, 'destroy');
    await configFor({ KAFKA_AUTH: 'scram-sha-512', KAFKA_SASL_SECRET_ARN: 'arn:secret' });
    expect(destroy).toHaveBeenCalledTimes(1);
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
    for (const text of [
      undefined,
      '{"username":"alice"}',
      '{"password":"p"}',
      '{"username":1,"password":"p"}',
      '{"username":"alice","password":null}',
      'null',
      'alice:secret',
    ]) {
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

describe('createKafka logging', () => {
  it('logs kafkajs warnings and above to stderr as JSON lines, under its own client id', async () => {
    await createKafka({ KAFKA_BROKERS: 'b:9092' }, 'replay');
    const config = built.at(-1)!;
    expect(config).toMatchObject({ clientId: 'replay', logLevel: logLevel.WARN });
    const written: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => written.push(String(chunk)) > 0);
    config.logCreator!(logLevel.WARN)({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { message: 'gone', broker: 'b:9092', timestamp: 't' },
    });
    expect(written).toEqual([
      `${JSON.stringify({ level: 'ERROR', logger: 'kafkajs.Connection', message: 'gone', broker: 'b:9092', timestamp: 't' })}\n`,
    ]);
  });
});

/** A kafkajs client whose producer and admin are scripted: what they were asked, and what they answer. */
function fakeKafka({
  connect = async () => undefined,
  cluster = { brokers: [{ nodeId: 1 }], controller: 1 as number | null },
  adminConnect = async () => undefined,
} = {}) {
  const calls: string[] = [];
  const producerConfigs: unknown[] = [];
  const producer = {
    connect: async () => (calls.push('producer.connect'), connect()),
    disconnect: async () => {
      calls.push('producer.disconnect');
      throw new Error('already closed'); // a failed disconnect must not hide the connect's error
    },
  };
  const admin = {
    connect: async () => (calls.push('admin.connect'), adminConnect()),
    describeCluster: async () => (calls.push('admin.describeCluster'), cluster),
    disconnect: async () => void calls.push('admin.disconnect'),
  };
  const kafka = { producer: (config: unknown) => (producerConfigs.push(config), producer), admin: () => admin } as unknown as KafkaJs.Kafka;
  return { kafka, calls, producerConfigs, producer };
}

const brokerNotFound = () => Object.assign(new Error('no broker'), { name: 'KafkaJSBrokerNotFound' });

describe('connectProducer with a scripted client', () => {
  it('connects an idempotent producer (one request in flight) by default, never creating topics', async () => {
    const { kafka, producerConfigs, producer } = fakeKafka();
    expect(await connectProducer(kafka, {})).toBe(producer);
    expect(await connectProducer(kafka, { KAFKA_IDEMPOTENT_PRODUCER: 'true' })).toBe(producer);
    expect(producerConfigs).toEqual([
      { idempotent: true, allowAutoTopicCreation: false, retry: { retries: 3 }, maxInFlightRequests: 1 },
      { idempotent: true, allowAutoTopicCreation: false, retry: { retries: 3 }, maxInFlightRequests: 1 },
    ]);
  });

  it('connects a plain producer with KAFKA_IDEMPOTENT_PRODUCER=false', async () => {
    const { kafka, producerConfigs } = fakeKafka();
    await connectProducer(kafka, { KAFKA_IDEMPOTENT_PRODUCER: 'false' });
    expect(producerConfigs).toEqual([{ idempotent: false, allowAutoTopicCreation: false, retry: { retries: 3 } }]);
  });

  it('closes what a failed connect opened and throws its error', async () => {
    const refused = new Error('ECONNREFUSED');
    const { kafka, calls } = fakeKafka({
      connect: async () => {
        throw refused;
      },
    });
    await expect(connectProducer(kafka, {})).rejects.toBe(refused);
    expect(calls).toEqual(['producer.connect', 'producer.disconnect']);
  });

  it('explains a cluster whose controller is none of its brokers (the embedded mock broker) and names the setting', async () => {
    const { kafka, calls } = fakeKafka({
      connect: async () => {
        throw brokerNotFound();
      },
      cluster: { brokers: [{ nodeId: 1 }, { nodeId: 2 }], controller: 0 },
    });
    await expect(connectProducer(kafka, { KAFKA_BROKERS: 'localhost:9092' })).rejects.toMatchObject({
      name: 'ConfigurationError',
      message:
        'The brokers localhost:9092 cannot serve an idempotent producer: their metadata names broker 0 as controller, which is none of their brokers (1, 2); ' +
        "librdkafka's mock broker (the embedded one of npm run services) does this. Set KAFKA_IDEMPOTENT_PRODUCER=false for such a cluster; keep it on against real clusters.",
    });
    expect(calls).toEqual(['producer.connect', 'producer.disconnect', 'admin.connect', 'admin.describeCluster', 'admin.disconnect']);
  });

  it('keeps the original error when the controller is usable, not yet elected, or the cluster cannot be described, or the producer is not idempotent', async () => {
    for (const cluster of [
      { brokers: [{ nodeId: 1 }], controller: 1 },
      { brokers: [{ nodeId: 1 }], controller: null },
    ]) {
      const { kafka } = fakeKafka({
        connect: async () => {
          throw brokerNotFound();
        },
        cluster,
      });
      await expect(connectProducer(kafka, {})).rejects.toMatchObject({ name: 'KafkaJSBrokerNotFound' });
    }
    const unreachable = fakeKafka({
      connect: async () => {
        throw brokerNotFound();
      },
      adminConnect: async () => {
        throw new Error('down');
      },
    });
    await expect(connectProducer(unreachable.kafka, {})).rejects.toMatchObject({ name: 'KafkaJSBrokerNotFound' });
    expect(unreachable.calls).toContain('admin.disconnect');
    const plain = fakeKafka({
      connect: async () => {
        throw brokerNotFound();
      },
      cluster: { brokers: [{ nodeId: 1 }], controller: 0 },
    });
    await expect(connectProducer(plain.kafka, { KAFKA_IDEMPOTENT_PRODUCER: 'false' })).rejects.toMatchObject({
      name: 'KafkaJSBrokerNotFound',
    });
    expect(plain.calls).not.toContain('admin.connect');
    const other = fakeKafka({
      connect: async () => {
        throw new Error('SASL failed');
      },
      cluster: { brokers: [{ nodeId: 1 }], controller: 0 },
    });
    await expect(connectProducer(other.kafka, {})).rejects.toThrow('SASL failed');
    expect(other.calls).not.toContain('admin.connect');
  });
});
