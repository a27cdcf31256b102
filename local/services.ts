import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startEmbeddedKafka, type EmbeddedKafka } from './kafka/embedded-kafka.js';
import { startEmbeddedAws, LOCAL_AWS_CREDENTIALS } from './aws-emulator.js';
import { startEmbeddedDynamoDb } from './dynamodb-emulator.js';
import { startLocalLambdaApi, type LocalLambdaApi } from './lambda-api.js';
import { ENV, IDEMPOTENCY_TABLE } from '../src/contract/index.js';
import { createKafka } from '../src/kafka/kafka-connection.js';

/** The environment every local command and a user's shell need, printed by `npm run services`. */
export interface LocalEnvironment {
  KAFKA_BROKERS: string;
  KAFKA_TOPIC: string;
  /** How to reach the brokers, when given (see src/kafka/kafka-connection.ts). */
  KAFKA_AUTH?: string;
  KAFKA_SASL_SECRET_ARN?: string;
  /** `false` for the embedded broker, which cannot serve an idempotent producer; as given otherwise. */
  KAFKA_IDEMPOTENT_PRODUCER?: string;
  AWS_ENDPOINT_URL: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  DLQ_URL: string;
  ON_FAILURE_QUEUE_URL: string;
  DLQ_BUCKET: string;
  /** The topics the replay may produce to: the demo topic, unless given. */
  REPLAY_ALLOWED_TOPICS: string;
  /** Where the SDK reaches DynamoDB: the embedded server, unless given. */
  AWS_ENDPOINT_URL_DYNAMODB: string;
  /**
   * Where the SDK reaches Lambda's API: this process's local Lambda API, which serves the event
   * source mappings this process emulates (the outage breaker pauses and resumes them there).
   */
  AWS_ENDPOINT_URL_LAMBDA: string;
  /**
   * The idempotency ledger's table there (always created, with the construct's key); in the
   * environment only when the ledger is asked for, as the construct sets it only when its
   * `idempotency` prop is on.
   */
  IDEMPOTENCY_TABLE?: string;
  /** The ledger's expiry, when given and the ledger is asked for (the construct's `idempotency.expiry`). */
  IDEMPOTENCY_EXPIRY_SECONDS?: string;
  /**
   * The parked keys' table (failureMode 'park-key'; always created, with the ledger's schema as
   * the construct creates it); in the environment only when asked for (`parkedKeys`).
   */
  PARKED_KEYS_TABLE?: string;
}

/** The local ledger's table, unless `IDEMPOTENCY_TABLE` names another. */
const LOCAL_IDEMPOTENCY_TABLE = 'kafka-idempotency';
/** The local parked keys' table, unless `PARKED_KEYS_TABLE` names another. */
const LOCAL_PARKED_KEYS_TABLE = 'kafka-parked-keys';

interface Stoppable {
  stop(): Promise<void>;
}

export interface LocalServices {
  readonly env: LocalEnvironment;
  /** The embedded broker, when this process started one (not when `KAFKA_BROKERS` was given). */
  readonly kafka?: EmbeddedKafka;
  /** The local Lambda API: attach this process's emulators to it so that the breaker can pause them. */
  readonly lambdaApi: LocalLambdaApi;
  createTopic(name: string, partitions: number): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalServicesOptions {
  /** The demo topic. @default `KAFKA_TOPIC` or 'orders' */
  readonly topic?: string;
  /** Partitions of the demo topic. @default 6 */
  readonly partitions?: number;
  /** Brokers of the embedded cluster. @default 1 */
  readonly brokers?: number;
  /** The embedded cluster's `group.initial.rebalance.delay.ms` (see `EmbeddedKafkaOptions`). @default 0 */
  readonly initialRebalanceDelayMs?: number;
  /** Start (or reach) a broker at all; the consumer alone needs only SQS/S3. @default true */
  readonly withKafka?: boolean;
  /** Fixed port for the embedded SQS/S3. @default a free port */
  readonly awsPort?: number;
  /** Fixed port for the embedded DynamoDB. @default a free port */
  readonly dynamoDbPort?: number;
  /** Where an already running setup is described. @default process.env */
  readonly environment?: NodeJS.ProcessEnv;
  /**
   * The handler asked for the idempotency ledger (`--idempotency`): the environment names its
   * table (and its expiry, when given), as the construct's `idempotency` prop does. The server
   * and the table start either way. @default false
   */
  readonly idempotency?: boolean;
  /** The handler parks keys (failureMode 'park-key'): the environment names the parked keys' table. @default false */
  readonly parkedKeys?: boolean;
}

/**
 * The ledger's variables, as the construct's `idempotency` prop sets them: the table (the local
 * one, unless `IDEMPOTENCY_TABLE` names another) and the expiry when `IDEMPOTENCY_EXPIRY_SECONDS` is given.
 */
export function ledgerEnvironment(given: NodeJS.ProcessEnv): { IDEMPOTENCY_TABLE: string; IDEMPOTENCY_EXPIRY_SECONDS?: string } {
  const expiry = given[ENV.idempotencyExpirySeconds];
  return {
    IDEMPOTENCY_TABLE: given[ENV.idempotencyTable] || LOCAL_IDEMPOTENCY_TABLE,
    ...(expiry ? { IDEMPOTENCY_EXPIRY_SECONDS: expiry } : {}),
  };
}

/**
 * Starts what is not already running: the embedded broker unless `KAFKA_BROKERS` is set,
 * the embedded SQS/S3 unless `AWS_ENDPOINT_URL` is set, the embedded DynamoDB unless
 * `AWS_ENDPOINT_URL_DYNAMODB` is set, and always the local Lambda API; then creates the local resources (demo topic,
 * dead-letter queue, on-failure queue, bucket, idempotency and parked keys' tables) wherever they live. The
 * environment names the table only with `idempotency` (see {@link LocalServicesOptions.idempotency}).
 */
export async function startLocalServices(options: LocalServicesOptions = {}): Promise<LocalServices> {
  const given = options.environment ?? process.env;
  const topic = options.topic ?? (given.KAFKA_TOPIC || 'orders');
  const partitions = options.partitions ?? 6;
  const started: Stoppable[] = [];
  const stop = async () => {
    await Promise.allSettled(started.reverse().map((service) => service.stop()));
  };
  try {
    let kafka: EmbeddedKafka | undefined;
    let brokers = given.KAFKA_BROKERS ?? '';
    if (!brokers && options.withKafka !== false) {
      kafka = await startEmbeddedKafka({
        brokers: options.brokers ?? 1,
        topics: { [topic]: partitions },
        ...(options.initialRebalanceDelayMs !== undefined ? { initialRebalanceDelayMs: options.initialRebalanceDelayMs } : {}),
      });
      started.push(kafka);
      brokers = kafka.brokers.join(',');
    }
    let endpoint = given.AWS_ENDPOINT_URL;
    if (!endpoint) {
      const aws = await startEmbeddedAws(options.awsPort);
      started.push(aws);
      endpoint = aws.endpoint;
    }
    const region = given.AWS_REGION || 'us-east-1';
    const credentials = {
      AWS_ACCESS_KEY_ID: given.AWS_ACCESS_KEY_ID ?? LOCAL_AWS_CREDENTIALS.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: given.AWS_SECRET_ACCESS_KEY ?? LOCAL_AWS_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
    };
    const clientConfig = {
      endpoint,
      region,
      credentials: { accessKeyId: credentials.AWS_ACCESS_KEY_ID, secretAccessKey: credentials.AWS_SECRET_ACCESS_KEY },
    };
    const sqs = new SQSClient(clientConfig);
    const s3 = new S3Client(clientConfig);
    const queueUrl = async (name: string) =>
      (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { MessageRetentionPeriod: '1209600' } }))).QueueUrl!;
    const bucket = given.DLQ_BUCKET || 'kafka-dead-letters';
    await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    const dynamoDbEndpoint = await startIdempotencyLedger(given, clientConfig, options.dynamoDbPort, started);
    // Always this process's own, whatever the environment names: only it knows this process's emulators.
    const lambdaApi = await startLocalLambdaApi();
    started.push(lambdaApi);
    const kafkaSettings = {
      KAFKA_AUTH: given.KAFKA_AUTH,
      KAFKA_SASL_SECRET_ARN: given.KAFKA_SASL_SECRET_ARN,
      KAFKA_IDEMPOTENT_PRODUCER: kafka ? 'false' : given.KAFKA_IDEMPOTENT_PRODUCER,
    };
    const env: LocalEnvironment = {
      KAFKA_BROKERS: brokers,
      KAFKA_TOPIC: topic,
      ...(Object.fromEntries(Object.entries(kafkaSettings).filter(([, value]) => value)) as Partial<LocalEnvironment>),
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      ...credentials,
      DLQ_URL: given.DLQ_URL || (await queueUrl('kafka-dead-letters')),
      ON_FAILURE_QUEUE_URL: given.ON_FAILURE_QUEUE_URL || (await queueUrl('kafka-on-failure')),
      DLQ_BUCKET: bucket,
      REPLAY_ALLOWED_TOPICS: given.REPLAY_ALLOWED_TOPICS || topic,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEndpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambdaApi.endpoint,
      ...(options.idempotency ? ledgerEnvironment(given) : {}),
      ...(options.parkedKeys ? { PARKED_KEYS_TABLE: parkedKeysTable(given) } : {}),
    };
    sqs.destroy();
    s3.destroy();

    const createTopic = async (name: string, count: number) => {
      if (kafka) return kafka.createTopic(name, count);
      // A real cluster: the admin API (which librdkafka's mock does not serve).
      const admin = (await createKafka({ ...given, KAFKA_BROKERS: brokers })).admin();
      await admin.connect();
      try {
        // An existing topic is used as it is (an embedded broker of `local services` has no admin API to ask).
        if ((await admin.listTopics()).includes(name)) return;
        await admin.createTopics({ topics: [{ topic: name, numPartitions: count }] });
      } catch (error) {
        throw new Error(
          `cannot create the topic ${name} on ${brokers}: ${(error as Error).message}. Create it there (for the embedded broker: local services --topic ${name}), or produce to it first.`,
          { cause: error },
        );
      } finally {
        await admin.disconnect();
      }
    };
    if (!kafka && brokers) await createTopic(topic, partitions);
    return { env, ...(kafka ? { kafka } : {}), lambdaApi, createTopic, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function parkedKeysTable(given: NodeJS.ProcessEnv): string {
  return given[ENV.parkedKeysTable] || LOCAL_PARKED_KEYS_TABLE;
}

/**
 * The idempotency ledger's and the parked keys' tables: on the embedded DynamoDB (dynalite), started here unless
 * `AWS_ENDPOINT_URL_DYNAMODB` is given, and created with the construct's key unless it exists.
 * @returns DynamoDB's endpoint
 */
async function startIdempotencyLedger(
  given: NodeJS.ProcessEnv,
  clientConfig: { region: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  port: number | undefined,
  started: Stoppable[],
): Promise<string> {
  let endpoint = given.AWS_ENDPOINT_URL_DYNAMODB;
  if (!endpoint) {
    const dynamoDb = await startEmbeddedDynamoDb(port);
    started.push(dynamoDb);
    endpoint = dynamoDb.endpoint;
  }
  const client = new DynamoDBClient({ ...clientConfig, endpoint });
  try {
    await createLedgerTable(client, ledgerEnvironment(given).IDEMPOTENCY_TABLE);
    await createLedgerTable(client, parkedKeysTable(given));
  } finally {
    client.destroy();
  }
  return endpoint;
}

/** The ledger's table as the construct creates it (key and billing; TTL is the runtime's own check locally), unless it exists. */
export async function createLedgerTable(client: DynamoDBClient, table: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
}
