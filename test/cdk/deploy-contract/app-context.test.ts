// The CDK app as a user runs it (`npx cdk synth -c …`), against the acceptance of the
// deploy-time truth issue, and the guard that keeps cdk.json's demo cluster from being deployed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Under the test file's scratch directory, removed (after cfn-lint) when the file is done.
const out = mkdtempSync(path.join(tmpdir(), 'cdk-contract-'));

// The template as JSON, read loosely: the assertions say what must be there.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface SynthesizedTemplate {
  Resources: Record<string, { Type: string; Properties: Json }>;
  Rules?: Json;
}

let runs = 0;
function synth(context: string[]) {
  const dir = path.join(out, String(runs++));
  const args = ['cdk', 'synth', '-q', '--output', dir, ...context.flatMap((c) => ['-c', c])];
  const result = spawnSync('npx', args, { encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' } });
  const template =
    result.status === 0
      ? (JSON.parse(readFileSync(path.join(dir, 'KafkaConsumers.template.json'), 'utf8')) as SynthesizedTemplate)
      : undefined;
  return { ...result, template };
}
const ofType = (t: SynthesizedTemplate, type: string) =>
  Object.values(t.Resources)
    .filter((r) => r.Type === type)
    .map((r) => r.Properties);

describe('the CDK app (deploy contract)', () => {
  it('synthesizes provisioned mappings with partial responses, one consumer group per topic, and a rule that refuses to deploy the demo cluster', () => {
    const { status, stderr, template } = synth(['topics=orders,payments', 'consumerGroupId=orders-consumer']);
    expect(status, stderr).toBe(0);
    const mappings = ofType(template!, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(2);
    for (const m of mappings) {
      expect(m.ProvisionedPollerConfig).toEqual({ MinimumPollers: 1, MaximumPollers: 10 });
      expect(m.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    }
    expect(mappings.map((m) => m.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId)).toEqual([
      'orders-consumer-orders',
      'orders-consumer-payments',
    ]);
    // CloudFormation user guide, template Rules: rules validate before any resource is created;
    // a failing assertion fails the stack or change set creation with its AssertDescription.
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/rules-section-structure.html
    const rule = template!.Rules!.DemoValues;
    expect(rule.Assertions[0].AssertDescription).toContain('-c clusterArn=');
    expect(rule.Assertions[0].Assert).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'DemoValuesGuard' }, 'demo-cluster'] }] });
    expect(stderr).toContain("clusterArn is cdk.json's demo cluster");
    // Without alarmTopicArn the alarms notify no one (docs/getting-started.md says so plainly).
    const alarms = ofType(template!, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.AlarmActions).toBeUndefined();
  });

  it('-c alarmTopicArn makes every alarm notify that topic', () => {
    const topic = 'arn:aws:sns:us-east-1:123456789012:kafka-alarms';
    const { status, stderr, template } = synth([`alarmTopicArn=${topic}`]);
    expect(status, stderr).toBe(0);
    const alarms = ofType(template!, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([topic]);
  });

  it('on demand: no provisioned-only settings, and the function knows partial responses are off', () => {
    const { status, stderr, template } = synth([
      'pollerMode=on-demand',
      'clusterArn=arn:aws:kafka:eu-west-1:111122223333:cluster/prod/abcd-1234-5',
    ]);
    expect(status, stderr).toBe(0);
    const [m] = ofType(template!, 'AWS::Lambda::EventSourceMapping');
    for (const key of [
      'ProvisionedPollerConfig',
      'FunctionResponseTypes',
      'MaximumRetryAttempts',
      'BisectBatchOnFunctionError',
      'MaximumRecordAgeInSeconds',
    ])
      expect(m![key], key).toBeUndefined();
    const consumer = ofType(template!, 'AWS::Lambda::Function').find((f) => f.Environment?.Variables?.DLQ_BUCKET)!;
    expect(consumer.Environment.Variables.REPORT_BATCH_ITEM_FAILURES).toBe('false');
    // A real cluster: no demo guard.
    expect(template!.Rules?.DemoValues).toBeUndefined();
  });

  it('refuses partial batch responses on demand, naming the context key', () => {
    const { status, stderr } = synth(['pollerMode=on-demand', 'reportBatchItemFailures=true']);
    expect(status).not.toBe(0);
    expect(stderr).toContain('reportBatchItemFailures needs provisioned mode, but pollerMode is on-demand');
  });
});
