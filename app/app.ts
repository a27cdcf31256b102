// The CDK app. Tuning comes from context (cdk.json carries demo defaults):
//   npx cdk synth -c batchSize=250 -c maxBatchingWindowSeconds=5
import { App, Duration, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { KafkaConsumersStack, clusterVpcIdsFromContext } from './kafka-consumers-stack.js';
import { validateMappingSettings } from '../src/mapping/mapping-settings.js';
import { mappingSettingsFromContext } from '../src/mapping/mapping-context.js';
import { guardDemoValues } from './demo-values.js';
import { MappingSettingsError } from '../src/mapping/errors.js';
import { FAILURE_MODES, type FailureMode } from '../src/contract/index.js';

const app = new App();
const context = (key: string) => app.node.tryGetContext(key) as unknown;
const settings = mappingSettingsFromContext(context);
validateMappingSettings(settings); // here, so that errors name the context keys as given
const bootstrapServers = String(context('bootstrapServers') ?? '')
  .split(',')
  .filter(Boolean);
const clusterArn = context('clusterArn') as string | undefined;
const authSecretArn = context('authSecretArn') as string | undefined;
const pollers = {
  ...(settings.minPollers !== undefined ? { minimumPollers: settings.minPollers } : {}),
  ...(settings.maxPollers !== undefined ? { maximumPollers: settings.maxPollers } : {}),
  ...(settings.pollerGroupName !== undefined ? { pollerGroupName: settings.pollerGroupName } : {}),
};
const authSecretKeyArn = context('authSecretKeyArn') as string | undefined;
// Alarms notify no one unless given a topic.
const alarmTopicArn = context('alarmTopicArn') as string | undefined;
const vpcIds = clusterVpcIdsFromContext(context);
// -c idempotency=true: the idempotency ledger (a created table; see KafkaConsumerProps.idempotency).
const idempotency = String(context('idempotency') ?? 'false');
if (idempotency !== 'true' && idempotency !== 'false')
  throw new MappingSettingsError(`context idempotency is "${idempotency}"; use true or false.`);

// -c breaker=false: no outage breaker (see KafkaConsumerProps.breaker; on by default).
const breaker = String(context('breaker') ?? 'true');
if (breaker !== 'true' && breaker !== 'false') throw new MappingSettingsError(`context breaker is "${breaker}"; use true or false.`);

// -c failureMode=block|park-key: see KafkaConsumerProps.failureMode (dead-letter by default).
const failureMode = String(context('failureMode') ?? 'dead-letter');
if (!(FAILURE_MODES as readonly string[]).includes(failureMode))
  throw new MappingSettingsError(`context failureMode is "${failureMode}"; use ${FAILURE_MODES.join(', ')}.`);

const stack = new KafkaConsumersStack(app, String(context('stackName') ?? 'KafkaConsumers'), {
  consumer: {
    cluster: clusterArn ? { kind: 'msk', clusterArn, bootstrapServers } : { kind: 'self-managed', bootstrapServers },
    topics: [...settings.topics],
    ...(settings.consumerGroupId ? { consumerGroupId: settings.consumerGroupId } : {}),
    ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
    ...(settings.maxBatchingWindowSeconds !== undefined
      ? { maxBatchingWindow: Duration.millis(settings.maxBatchingWindowSeconds * 1_000) }
      : {}),
    ...(settings.startingPosition ? { startingPosition: settings.startingPosition } : {}),
    ...(settings.startingPositionTimestamp !== undefined ? { startingPositionTimestamp: settings.startingPositionTimestamp } : {}),
    ...(settings.pollerMode !== undefined ? { pollerMode: settings.pollerMode } : {}),
    ...(Object.keys(pollers).length > 0 ? { provisionedPollerConfig: pollers } : {}),
    ...(settings.retryAttempts !== undefined ? { retryAttempts: settings.retryAttempts } : {}),
    ...(settings.maxRecordAgeSeconds !== undefined ? { maxRecordAge: Duration.seconds(settings.maxRecordAgeSeconds) } : {}),
    ...(settings.bisectBatchOnError !== undefined ? { bisectBatchOnError: settings.bisectBatchOnError } : {}),
    ...(settings.reportBatchItemFailures !== undefined ? { reportBatchItemFailures: settings.reportBatchItemFailures } : {}),
    ...(settings.filters ? { filters: [...settings.filters] } : {}),
    ...(idempotency === 'true' ? { idempotency: true } : {}),
    ...(breaker === 'false' ? { breaker: false } : {}),
    failureMode: failureMode as FailureMode,
  },
  ...(authSecretArn ? { authSecretArn } : {}),
  ...(authSecretKeyArn ? { authSecretKeyArn } : {}),
  ...(alarmTopicArn ? { alarmTopicArn } : {}),
  ...(vpcIds ? { clusterVpcIds: vpcIds } : {}),
});
guardDemoValues(stack, clusterArn);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
