// AWS rules on Kafka mappings' poller modes, each with where it is documented.
import { describe, expect, it } from 'vitest';
import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Kafka } from 'kafkajs';
import { EventSourceMappingEmulator } from '../../../local/esm/emulator.js';
import { synth } from './support.js';

const mapping = (t: Template) =>
  Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))[0]!.Properties as Record<string, unknown>;
const consumerEnv = (t: Template) => {
  const fns = Object.values(t.findResources('AWS::Lambda::Function')).map(
    (f) => f.Properties.Environment?.Variables as Record<string, unknown>,
  );
  return fns.find((v) => v && 'DLQ_BUCKET' in v)!;
};

describe('poller mode (deploy contract)', () => {
  // aws-cdk-lib 2.276, aws-lambda-event-sources README, Kafka section: reportBatchItemFailures,
  // bisectBatchOnError, retryAttempts and maxRecordAge are "available in provisioned mode only"
  // for Kafka. https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_event_sources-readme.html
  it('gives every mapping provisioned pollers by default, so that its partial batch responses are honoured', () => {
    const m = mapping(synth());
    expect(m.ProvisionedPollerConfig).toEqual({ MinimumPollers: 1, MaximumPollers: 10 });
    expect(m.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  // Lambda API reference, ProvisionedPollerConfig: PollerGroupName groups mappings "to share Event
  // Poller Unit (EPU) capacity" to cut provisioned-mode cost.
  // https://docs.aws.amazon.com/lambda/latest/api/API_ProvisionedPollerConfig.html
  it('passes a poller group name through, so that mappings can share pollers', () => {
    expect(mapping(synth({ provisionedPollerConfig: { pollerGroupName: 'shared-pollers' } })).ProvisionedPollerConfig).toEqual({
      MinimumPollers: 1,
      MaximumPollers: 10,
      PollerGroupName: 'shared-pollers',
    });
    expect(mapping(synth({ pollerGroupName: `Shared_${'p'.repeat(121)}` })).ProvisionedPollerConfig).toMatchObject({
      PollerGroupName: `Shared_${'p'.repeat(121)}`,
    });
  });

  // Lambda API reference, ProvisionedPollerConfig.PollerGroupName: pattern [a-zA-Z0-9-_]*, at most
  // 128 characters (CloudFormation's schema, bundled by aws-cdk-lib, has the same).
  it.each([
    [
      { pollerGroupName: 'shared.pollers' },
      'pollerGroupName is "shared.pollers"; it must be 1–128 characters of letters, digits, "-" and "_"',
    ],
    [
      { provisionedPollerConfig: { pollerGroupName: 'shared pollers' } },
      'provisionedPollerConfig.pollerGroupName is "shared pollers"; it must be 1–128',
    ],
    [{ pollerGroupName: 'x'.repeat(129) }, 'it must be 1–128 characters'],
    [{ pollerGroupName: '' }, 'pollerGroupName is ""'],
  ])('refuses a poller group name Lambda refuses: %j', (props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  // Lambda API reference, ProvisionedPollerConfig.PollerGroupName (and the Lambda guide, "Apache
  // Kafka event poller scaling modes"): "You can group up to 100 ESMs per poller group and
  // aggregate maximum pollers across all ESMs in a group cannot exceed 2000." One mapping per topic.
  it('refuses a poller group its own mappings would overfill, saying that other mappings count too', () => {
    const topics = (n: number) => Array.from({ length: n }, (_, i) => `topic-${i}`);
    expect(() => synth({ topics: topics(3), pollerGroupName: 'g', provisionedPollerConfig: { maximumPollers: 1_000 } })).toThrow(
      'pollerGroupName "g": 3 mappings (one per topic) × provisionedPollerConfig.maximumPollers 1000 = 3000 pollers; a poller group\'s mappings may have at most 2000 together (mappings of other consumers in the same group count too): lower provisionedPollerConfig.maximumPollers to at most 666',
    );
    expect(() => synth({ topics: topics(101), pollerGroupName: 'g', provisionedPollerConfig: { maximumPollers: 1 } })).toThrow(
      'pollerGroupName "g" would hold 101 mappings (one per topic); a poller group holds at most 100 (mappings of other consumers in the same group count too)',
    );
    expect(() => synth({ topics: topics(201), pollerGroupName: 'g' })).toThrow('would hold 201 mappings');
    expect(
      synth({ topics: topics(2), pollerGroupName: 'g', provisionedPollerConfig: { maximumPollers: 1_000 } }).findResources(
        'AWS::Lambda::EventSourceMapping',
      ),
    ).toBeDefined();
    // Without a group, each mapping has pollers of its own: no sum applies.
    expect(() => synth({ topics: topics(3), provisionedPollerConfig: { maximumPollers: 1_000 } })).not.toThrow();
  });

  it('on demand, leaves out every provisioned-only setting and tells the runtime that partial responses are off', () => {
    const t = synth({ pollerMode: 'on-demand' });
    const m = mapping(t);
    for (const key of [
      'ProvisionedPollerConfig',
      'FunctionResponseTypes',
      'MaximumRetryAttempts',
      'BisectBatchOnFunctionError',
      'MaximumRecordAgeInSeconds',
      'MetricsConfig',
      'LoggingConfig',
    ]) {
      expect(m[key], key).toBeUndefined();
    }
    expect(consumerEnv(t).REPORT_BATCH_ITEM_FAILURES).toBe('false');
    expect(consumerEnv(synth()).REPORT_BATCH_ITEM_FAILURES).toBe('true');
  });

  it.each([
    [{ reportBatchItemFailures: true }, 'reportBatchItemFailures needs provisioned mode, but pollerMode is on-demand'],
    [{ retryAttempts: 2 }, 'retryAttempts needs provisioned mode'],
    [{ maxRecordAge: Duration.hours(1) }, 'maxRecordAge (seconds) needs provisioned mode'],
    [{ bisectBatchOnError: true }, 'bisectBatchOnError needs provisioned mode'],
    [{ provisionedPollerConfig: { minimumPollers: 2 } }, 'provisionedPollerConfig.minimumPollers needs provisioned mode'],
  ])('on demand, refuses %j at synth, naming it', (props, message) => {
    expect(() => synth({ pollerMode: 'on-demand', ...props })).toThrow(message);
  });

  // One validation for synth and the emulator: what `cdk deploy` would refuse, `npm start` refuses too.
  it('makes the emulator refuse what synth refuses', () => {
    const kafka = new Kafka({ brokers: ['127.0.0.1:1'] });
    const emulate = (settings: object) =>
      new EventSourceMappingEmulator({
        kafka,
        topic: 'tt',
        bootstrapServers: '127.0.0.1:1',
        handler: async () => ({}),
        settings: { topics: ['tt'], ...settings },
      });
    expect(() => emulate({ pollerMode: 'on-demand', reportBatchItemFailures: true })).toThrow(
      'reportBatchItemFailures needs provisioned mode, but pollerMode is on-demand',
    );
    expect(() => emulate({ pollerMode: 'on-demand' })).not.toThrow();
  });
});
