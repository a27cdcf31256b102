// AWS rules on Kafka mappings' poller modes, each with where it is documented.
import { describe, expect, it } from 'vitest';
import { Duration } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { Kafka } from 'kafkajs';
import { EventSourceMappingEmulator } from '../../../local/esm/emulator';
import { synth } from './support';

const mapping = (t: Template) => Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))[0]!.Properties as Record<string, unknown>;
const consumerEnv = (t: Template) => {
  const fns = Object.values(t.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Environment?.Variables as Record<string, unknown>);
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
    expect(mapping(synth({ provisionedPollerConfig: { pollerGroupName: 'shared-pollers' } })).ProvisionedPollerConfig).toEqual({ MinimumPollers: 1, MaximumPollers: 10, PollerGroupName: 'shared-pollers' });
  });

  it('on demand, leaves out every provisioned-only setting and tells the runtime that partial responses are off', () => {
    const t = synth({ pollerMode: 'on-demand' });
    const m = mapping(t);
    for (const key of ['ProvisionedPollerConfig', 'FunctionResponseTypes', 'MaximumRetryAttempts', 'BisectBatchOnFunctionError', 'MaximumRecordAgeInSeconds', 'MetricsConfig', 'LoggingConfig']) {
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
    const emulate = (settings: object) => new EventSourceMappingEmulator({ kafka, topic: 't', bootstrapServers: '127.0.0.1:1', handler: async () => ({}), settings: { topics: ['t'], ...settings } });
    expect(() => emulate({ pollerMode: 'on-demand', reportBatchItemFailures: true })).toThrow('reportBatchItemFailures needs provisioned mode, but pollerMode is on-demand');
    expect(() => emulate({ pollerMode: 'on-demand' })).not.toThrow();
  });
});
