import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { KafkaConsumersStack } from '../../app/kafka-consumers-stack.js';
import type { KafkaConsumerProps } from '../../src/constructs/kafka-consumer-props.js';
import { CLUSTER, base, synth } from './deploy-contract/support.js';
const mappings = (t: Template) => Object.values(t.findResources('AWS::Lambda::EventSourceMapping')).map((r) => r.Properties);

describe('KafkaConsumersStack', () => {
  const template = synth();

  it('maps every setting onto the event source mapping', () => {
    const t = synth({
      topics: ['orders', 'payments'],
      batchSize: 500,
      maxBatchingWindow: Duration.seconds(7),
      startingPosition: 'AT_TIMESTAMP',
      startingPositionTimestamp: 1_700_000_000,
      provisionedPollerConfig: { minimumPollers: 2, maximumPollers: 20, pollerGroupName: 'shared' },
      retryAttempts: 4,
      maxRecordAge: Duration.hours(1),
      bisectBatchOnError: true,
    });
    const ms = mappings(t);
    expect(ms.map((m) => m.Topics)).toEqual([['orders'], ['payments']]);
    expect(ms[0]).toMatchObject({
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 7,
      StartingPosition: 'AT_TIMESTAMP',
      StartingPositionTimestamp: 1_700_000_000,
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 20, PollerGroupName: 'shared' },
      MaximumRetryAttempts: 4,
      MaximumRecordAgeInSeconds: 3600,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: CLUSTER,
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'orders-group-orders' },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/OnFailureQueue/), 'Arn'] } } },
    });
  });

  it('uses Lambda defaults where nothing is set, in provisioned mode with partial batch responses on', () => {
    const [m] = mappings(template);
    expect(m).toMatchObject({
      BatchSize: 100,
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 10 },
    });
    expect(m.MaximumBatchingWindowInSeconds).toBeUndefined();
    // The outage breaker's (on by default): not -1, which Lambda caps at 10 with the on-failure destination.
    expect(m.MaximumRetryAttempts).toBe(10_000);
    expect(mappings(synth({ reportBatchItemFailures: false }))[0].FunctionResponseTypes).toBeUndefined();
  });

  it('builds the functions for Node.js 24 on ARM64 with the wiring they read', () => {
    const stack = new KafkaConsumersStack(new App(), 'Wired', {
      consumer: { ...base, memorySize: 2048, timeout: Duration.seconds(120), reservedConcurrentExecutions: 5 },
    });
    const t = Template.fromStack(stack);
    const { consumer } = stack;
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 2048,
      Timeout: 120,
      ReservedConcurrentExecutions: 5,
      Environment: {
        Variables: Match.objectLike({
          // The dead-letter queue and bucket, not the on-failure queue or another resource.
          DLQ_URL: stack.resolve(consumer.deadLetterQueue.queueUrl),
          DLQ_BUCKET: stack.resolve(consumer.deadLetterBucket.bucketName),
          KAFKA_CONSUMER_GROUP: 'orders-group',
          REPORT_BATCH_ITEM_FAILURES: 'true',
          POWERTOOLS_METRICS_NAMESPACE: 'KafkaConsumer',
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          KAFKA_AUTH: 'iam',
          KAFKA_BROKERS: 'b-1:9098',
          REPLAY_ALLOWED_TOPICS: 'orders',
          REPLAY_MAX_COUNT: '3',
          KAFKA_COMPRESSION: 'none',
        }),
      },
    });
  });

  it('tells the replay function the codec to produce with, and refuses one Kafka does not define', () => {
    synth({}, { replayCompression: 'zstd' }).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      Environment: { Variables: Match.objectLike({ KAFKA_COMPRESSION: 'zstd' }) },
    });
    expect(() => synth({}, { replayCompression: 'brotli' as never })).toThrow(
      'compression is "brotli"; it must be one of none, gzip, snappy, lz4, zstd.',
    );
  });

  it('creates an encrypted, SSL-only DLQ with 14-day retention and a locked-down bucket that expires objects', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })] },
    });
  });

  it('uses a KMS key and a custom retention when given', () => {
    const app = new App();
    const keys = new Stack(app, 'Keys');
    const key = new kms.Key(keys, 'Key');
    const stack = new KafkaConsumersStack(app, 'Kms', { consumer: { ...base, encryptionKey: key, deadLetterRetention: Duration.days(4) } });
    const t = Template.fromStack(stack);
    const keyArn = stack.resolve(key.keyArn);
    t.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 4 * 86_400, KmsMasterKeyId: keyArn });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } }],
      },
    });
    expect(() => synth({ deadLetterRetention: Duration.days(15) })).toThrow('deadLetterRetention is 1296000 s; it must be 60 s – 14 days.');
  });

  it('grants least privilege: MSK actions on this cluster, topic and group; send-only for the consumer', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(p.Properties.PolicyDocument));
    const consumer = policies.find((p) => p.includes('kafka-cluster:ReadData'))!;
    expect(consumer).toContain('"Resource":"arn:aws:kafka:us-east-1:123456789012:topic/demo/abcd-1234/orders"');
    expect(consumer).toContain('"Resource":"arn:aws:kafka:us-east-1:123456789012:group/demo/abcd-1234/orders-group-orders"');
    expect(consumer).toContain('sqs:SendMessage');
    expect(consumer).not.toContain('sqs:ReceiveMessage');
    expect(consumer).not.toContain('sqs:DeleteMessage');
    expect(consumer).toContain('"Action":"s3:PutObject"');
    const replay = policies.find((p) => p.includes('kafka-cluster:WriteData'))!;
    expect(replay).toContain('sqs:ReceiveMessage');
    expect(replay).toContain('sqs:DeleteMessage');
    expect(replay).toContain('"Action":["s3:GetObject","s3:PutObject"]'); // PutObject: re-enqueued pointers' objects
    expect(replay).not.toContain('kafka-cluster:ReadData');
  });

  it('creates the twelve alarms (with an SNS action when given) and the dashboard', () => {
    const app = new App();
    const stack = new KafkaConsumersStack(app, 'Alarmed', { consumer: base });
    const t = Template.fromStack(stack);
    // The nine of the consumer, and the outage breaker's (on by default): ConsumerPausedAlarm-orders,
    // BreakerOpenFailedAlarm and BreakerResumerErrorsAlarm.
    t.resourceCountIs('AWS::CloudWatch::Alarm', 12);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OffsetLag', Namespace: 'AWS/Lambda', Threshold: 10_000 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 3600 });
    synth({}, { dashboard: false }).resourceCountIs('AWS::CloudWatch::Dashboard', 0);

    const app2 = new App();
    const holder = new KafkaConsumersStack(app2, 'Holder', { consumer: base });
    const topic = new sns.Topic(holder, 'Alerts');
    const notified = new KafkaConsumersStack(app2, 'Notified', {
      consumer: { ...base, alarmTopic: topic, alarmThresholds: { offsetLag: 50 } },
    });
    const tn = Template.fromStack(notified);
    tn.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OffsetLag',
      Threshold: 50,
      AlarmActions: [notified.resolve(topic.topicArn)],
    });
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize is 0; it must be 1–10000.'],
    [{ batchSize: 10_001 }, 'batchSize is 10001; it must be 1–10000.'],
    [{ maxBatchingWindow: Duration.seconds(301) }, 'maxBatchingWindow is 301; it must be 0–300.'],
    [
      { provisionedPollerConfig: { minimumPollers: 0, maximumPollers: 2 } },
      'provisionedPollerConfig.minimumPollers is 0; it must be 1–200.',
    ],
    [
      { provisionedPollerConfig: { minimumPollers: 5, maximumPollers: 2 } },
      'provisionedPollerConfig.minimumPollers (5) is greater than provisionedPollerConfig.maximumPollers (2).',
    ],
    [{ provisionedPollerConfig: { maximumPollers: 2.5 } }, 'provisionedPollerConfig.maximumPollers is 2.5; it must be a whole number.'],
    [{ pollerMode: 'sometimes' as never }, 'pollerMode is "sometimes"; it must be provisioned or on-demand.'],
    [{ retryAttempts: -2 }, 'retryAttempts is -2; it must be -1 or 0–10000.'],
    [{ maxRecordAge: Duration.seconds(30) }, 'maxRecordAge (seconds) is 30; it must be -1 or 60–604800.'],
    [{ consumerGroupId: 'bad group!' }, 'consumerGroupId "bad group!" must be 1–200 characters'],
    [{ memorySize: 100 }, 'memorySize is 100; it must be 128–10240 MB.'],
    // Lambda guide, "Configuring Amazon MSK event sources for Lambda": Kafka mappings support
    // functions with a timeout of at most 14 minutes.
    [
      { timeout: Duration.minutes(15) },
      'timeout is 900 s; a function behind a Kafka event source mapping may have at most 14 minutes (840 s).',
    ],
    [{ memorySize: 10_241 }, 'memorySize is 10241; it must be 128–10240 MB.'],
    [{ topics: [] }, 'topics is empty'],
    [{ startingPosition: 'AT_TIMESTAMP' as const }, 'AT_TIMESTAMP needs it'],
    [
      { timeout: Duration.seconds(5), recordRetry: { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 4_000 } },
      "timeout is 5 s; with recordRetry's backoff (up to 7500 ms per record) and the 3 s safety margin it must be at least 12 s.",
    ],
    [{ cluster: { kind: 'msk' as const, clusterArn: 'arn:aws:kafka:nope', bootstrapServers: ['b:9098'] } }, 'is not an MSK cluster ARN'],
    [{ cluster: { kind: 'msk' as const, clusterArn: CLUSTER } }, 'cluster.bootstrapServers is empty'],
  ])('refuses %j with a message naming the prop', (props, message) => {
    expect(() => synth(props as Partial<KafkaConsumerProps>)).toThrow(message);
  });
});

describe('the CDK app from the command line', () => {
  // Under the test file's scratch directory, removed (after cfn-lint) when the file is done.
  const outDir = mkdtempSync(path.join(tmpdir(), 'cdk-app-'));
  let runs = 0;
  const cdk = (args: string[]) => {
    const dir = path.join(outDir, String(runs++));
    return {
      dir,
      ...spawnSync('npx', ['cdk', 'synth', '-q', '--output', dir, ...args], {
        encoding: 'utf8',
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      }),
    };
  };

  it('synthesizes offline, cdk-nag clean, with the context values on the mapping', () => {
    const out = cdk(['-c', 'batchSize=250', '-c', 'maxBatchingWindowSeconds=5']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).not.toMatch(/AwsSolutions-/);
    const template = JSON.parse(readFileSync(path.join(out.dir, 'KafkaConsumers.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const mapping = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::EventSourceMapping')!;
    expect(mapping.Properties).toMatchObject({ BatchSize: 250, MaximumBatchingWindowInSeconds: 5, Topics: ['orders'] });
  });

  // cdk-nag's AwsSolutions-DDB3 (a warning) asks for point-in-time recovery on DynamoDB tables.
  it('-c idempotency=true adds the ledger table, cdk-nag clean (warnings included), and names it in an output; other values are refused', () => {
    const out = cdk(['-c', 'idempotency=true']);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stderr).not.toMatch(/AwsSolutions-/);
    const template = JSON.parse(readFileSync(path.join(out.dir, 'KafkaConsumers.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
      Outputs: Record<string, { Value: unknown }>;
    };
    const tables = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    expect(template.Outputs.IdempotencyTableName!.Value).toEqual({ Ref: tables[0]![0] });
    const wrong = cdk(['-c', 'idempotency=yes']);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('context idempotency is "yes"; use true or false.');
  });

  // The breaker is on by default (the test above synthesizes it cdk-nag clean); -c breaker=false
  // leaves out the resumer, its schedule, its output and its alarm.
  it('-c breaker=false leaves the outage breaker out; other values are refused', () => {
    const read = (dir: string) =>
      JSON.parse(readFileSync(path.join(dir, 'KafkaConsumers.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string }>;
        Outputs: Record<string, unknown>;
      };
    const off = cdk(['-c', 'breaker=false']);
    expect(off.status, off.stderr).toBe(0);
    const template = read(off.dir);
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Events::Rule')).toEqual([]);
    expect(template.Outputs.BreakerFunctionName).toBeUndefined();
    expect(JSON.stringify(template)).not.toContain('MappingPaused');
    const wrong = cdk(['-c', 'breaker=no']);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('context breaker is "no"; use true or false.');
  });

  // Issue 35: each failure mode synthesizes cdk-nag clean (warnings included); block has no
  // on-failure queue (nor its output), park-key a parked-keys table; other values are refused.
  it('-c failureMode=block and -c failureMode=park-key synthesize cdk-nag clean; other values are refused', () => {
    const read = (dir: string) =>
      JSON.parse(readFileSync(path.join(dir, 'KafkaConsumers.template.json'), 'utf8')) as {
        Resources: Record<string, { Type: string }>;
        Outputs: Record<string, unknown>;
      };
    const block = cdk(['-c', 'failureMode=block']);
    expect(block.status, block.stderr).toBe(0);
    expect(block.stderr).not.toMatch(/AwsSolutions-/);
    expect(read(block.dir).Outputs.OnFailureQueueUrl).toBeUndefined();
    expect(JSON.stringify(read(block.dir))).toContain('BlockedOffset');
    const park = cdk(['-c', 'failureMode=park-key']);
    expect(park.status, park.stderr).toBe(0);
    expect(park.stderr).not.toMatch(/AwsSolutions-/);
    expect(Object.values(read(park.dir).Resources).filter((r) => r.Type === 'AWS::DynamoDB::Table')).toHaveLength(1);
    // In the cluster's VPC the replay reaches the parked-keys table through a DynamoDB endpoint (cdk-nag and cfn-lint clean).
    const vpc = ['-c', 'vpcId=vpc-0abc1234', '-c', 'subnetIds=subnet-0a,subnet-0b', '-c', 'securityGroupIds=sg-0c0c0c0c'];
    const parkInVpc = cdk(['-c', 'failureMode=park-key', ...vpc, '-c', 'routeTableIds=rtb-0a,rtb-0b']);
    expect(parkInVpc.status, parkInVpc.stderr).toBe(0);
    expect(parkInVpc.stderr).not.toMatch(/AwsSolutions-/);
    expect(JSON.stringify(read(parkInVpc.dir))).toContain('.dynamodb');
    const wrong = cdk(['-c', 'failureMode=skip']);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toContain('context failureMode is "skip"; use dead-letter, block, park-key.');
  });

  it('fails synth with a clear message for an out-of-range value', () => {
    const out = cdk(['-c', 'batchSize=20000']);
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain('batchSize is 20000; it must be 1–10000.');
  });

  it('synthesizes a self-managed cluster without an ARN', () => {
    const out = cdk([
      '-c',
      'clusterArn=',
      '-c',
      'bootstrapServers=broker-1:9094',
      '-c',
      'authSecretArn=arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf',
    ]);
    expect(out.status, out.stderr).toBe(0);
    const noSecret = cdk(['-c', 'clusterArn=', '-c', 'bootstrapServers=broker-1:9094']);
    expect(noSecret.stderr).toContain('self-managed brokers reached over the internet need authSecret');
  });
});
