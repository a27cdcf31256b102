// Issue 34: the outage breaker's AWS side. The consumer pauses its own mappings, a resumer run every
// minute re-enables them; both may call exactly BREAKER_ACTIONS, on this consumer's mappings only.
// - IAM. Service Authorization Reference, "Actions, resources, and condition keys for AWS Lambda"
//   (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html): the
//   eventSourceMapping resource type is arn:${Partition}:lambda:${Region}:${Account}:event-source-mapping:${UUID};
//   an action without a resource type takes "*". Lambda guide, "Fine-tuning the Resources and
//   Conditions sections of policies" (https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html):
//   "Event source mappings–Actions can be restricted to specific event source mapping resources by
//   ARN"; ListEventSourceMappings acts on no named resource ("*"). "Using tags on event source
//   mappings" (https://docs.aws.amazon.com/lambda/latest/dg/tags-esm.html): lambda:ListTags and
//   lambda:TagResource, which ListTags (https://docs.aws.amazon.com/lambda/latest/api/API_ListTags.html)
//   and TagResource (https://docs.aws.amazon.com/lambda/latest/api/API_TagResource.html) take on an
//   `event-source-mapping:<UUID>` ARN. CloudFormation's Ref of AWS::Lambda::EventSourceMapping is
//   its UUID (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-eventsourcemapping.html).
// - No cycle. CloudFormation refuses a template whose resources depend on each other in a circle
//   ("Circular dependency between resources"; Ref, Fn::GetAtt, Fn::Sub and DependsOn all make a
//   dependency: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html).
//   aws-cdk-lib makes a function DependsOn its role's default policy; the mapping names the
//   function: a grant naming the mapping in that default policy would close the circle.
// - Schedule. EventBridge, "Using cron and rate expressions to schedule rules"
//   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
//   rate(value unit), "If the value is equal to 1, then the unit must be singular"; the minimum
//   precision is one minute.
// - Alarm. CloudWatch, "Configuring how CloudWatch alarms treat missing data"
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):
//   breaching treats missing data points as over the threshold, and applies only when the alarm's
//   evaluation range (wider than its periods) holds fewer real data points than it evaluates.
// - Retries. "Configuring error handling controls for Kafka event sources"
//   (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html): Maximum retry
//   attempts 0–10,000 or -1, "When you configure both infinite retries and an on-failure
//   destination, Lambda automatically applies a maximum of 10 retry attempts". Whether a partial
//   batch response's redelivery counts as a retry is not documented (docs/aws-contracts.md §12).
import { mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { KafkaConsumer } from '../../../src/constructs/kafka-consumer.js';
import type { KafkaConsumerProps } from '../../../src/constructs/kafka-consumer-props.js';
import { BREAKER_ACTIONS, ENV } from '../../../src/contract/index.js';
import { CLOUDFORMATION_SCHEMAS, base, resourcesOf, synth, synthStack } from './support.js';
import { cfnLintInstalled, lintTemplateFiles } from '../../support/cfn-lint.js';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] }>;

const resourcesIn = (t: Template) => t.toJSON().Resources as Resources;
const idsOf = (t: Template, type: string) => Object.keys(resourcesOf(t, type));
const mappingArn = (uuidRef: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':lambda:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':event-source-mapping:',
      { Ref: uuidRef },
    ],
  ],
});
/** Each role's allowed statements, by the role's logical id. */
function statementsByRole(t: Template): Map<string, Statement[]> {
  const byRole = new Map<string, Statement[]>();
  for (const policy of Object.values(resourcesOf(t, 'AWS::IAM::Policy'))) {
    for (const role of policy.Properties.Roles as Array<{ Ref: string }>) {
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      byRole.set(role.Ref, [...(byRole.get(role.Ref) ?? []), ...statements]);
    }
  }
  return byRole;
}
const lambdaStatements = (statements: Statement[]) => statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('lambda:')));
const roleOf = (resources: Resources, fnId: string) =>
  (resources[fnId]!.Properties!.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
const functionIds = (t: Template) => {
  const fns = resourcesOf(t, 'AWS::Lambda::Function');
  const consumer = Object.keys(fns).find((id) => id.startsWith('ConsumerFunction'))!;
  const resumer = Object.keys(fns).find((id) => id.startsWith('ConsumerBreakerFunction'));
  return { fns, consumer, resumer };
};
const envOf = (t: Template, fnId: string) =>
  (resourcesOf(t, 'AWS::Lambda::Function')[fnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

describe('the outage breaker: IAM on the consumer’s own mappings (deploy contract)', () => {
  const t = synth({ topics: ['orders', 'payments'] });
  const resources = resourcesIn(t);
  const mappings = idsOf(t, 'AWS::Lambda::EventSourceMapping');
  const { consumer, resumer } = functionIds(t);

  it('grants the consumer and the resumer exactly BREAKER_ACTIONS: the list on "*", the rest on each mapping of this consumer by ARN', () => {
    expect(mappings).toHaveLength(2);
    const expected = [
      { Effect: 'Allow', Action: 'lambda:ListEventSourceMappings', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['lambda:UpdateEventSourceMapping', 'lambda:ListTags', 'lambda:TagResource'],
        Resource: mappings.map(mappingArn),
      },
    ];
    const byRole = statementsByRole(t);
    for (const fn of [consumer, resumer!]) expect(lambdaStatements(byRole.get(roleOf(resources, fn))!), fn).toEqual(expected);
    const granted = new Set(expected.flatMap((s) => [s.Action].flat()));
    expect([...granted].sort()).toEqual([...BREAKER_ACTIONS].sort());
  });

  it('puts the consumer’s grant in a policy of its own, which the consumer function does not wait for', () => {
    const consumerRole = roleOf(resources, consumer);
    const breakerPolicies = Object.entries(resourcesOf(t, 'AWS::IAM::Policy')).filter(
      ([, p]) =>
        (p.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === consumerRole) &&
        JSON.stringify(p.Properties.PolicyDocument).includes('lambda:UpdateEventSourceMapping'),
    );
    expect(breakerPolicies).toHaveLength(1);
    const [policyId] = breakerPolicies[0]!;
    expect([resources[consumer]!.DependsOn].flat()).not.toContain(policyId);
  });

  // aws-cdk-lib checks the template against CloudFormation's rules at synth (support.ts turns its
  // findings into errors), a dependency cycle among them (F3004); cfn-lint, which lints every
  // template these tests synthesize, reports one as E3004. So every synth here is cycle-free.
  it('synthesizes, with the breaker on, a template without a dependency cycle', () => {
    expect(() => synth({ topics: ['orders', 'payments'] })).not.toThrow();
  });

  // Both checks can fail: the same grant in the role's default policy makes the circle. Renamed
  // afterwards, so that the suite's own lint does not refuse this template made wrong on purpose.
  it('refuses, at synth and in cfn-lint, the cycle a grant on the mappings in the function’s default policy would make', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cycle-'));
    const app = new App({ outdir, context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Cycle');
    const c = new KafkaConsumer(stack, 'Consumer', { ...base, breaker: false });
    const uuid = (c.eventSources[0] as sources.ManagedKafkaEventSource).eventSourceMappingId;
    const arn = stack.formatArn({
      service: 'lambda',
      resource: 'event-source-mapping',
      resourceName: uuid,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    c.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:UpdateEventSourceMapping'], resources: [arn] }));
    expect(() => app.synth()).toThrow(/Circular Dependencies for resource ConsumerFunction[0-9A-F]{8}\b/);
    const file = path.join(outdir, 'Cycle.cyclic.json');
    renameSync(path.join(outdir, 'Cycle.template.json'), file);
    if (cfnLintInstalled()) expect(lintTemplateFiles([file]).join('\n')).toMatch(/Error E3004 .*Circular Dependencies/);
  });
});

describe('the resumer, its schedule and the cool-downs (deploy contract)', () => {
  it('runs the resumer every minute, from an EventBridge rule allowed to invoke it and nothing else', () => {
    const t = synth();
    const { resumer } = functionIds(t);
    const rules = Object.entries(resourcesOf(t, 'AWS::Events::Rule'));
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    expect(rule.Properties.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [resumer, 'Arn'] } })]);
    const permissions = Object.values(resourcesOf(t, 'AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p.Properties.FunctionName).includes(resumer!),
    );
    expect(permissions.map((p) => p.Properties)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [resumer, 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    ]);
    // A look superseded by the next one is not retried (Lambda's asynchronous invocation config).
    expect(Object.values(resourcesOf(t, 'AWS::Lambda::EventInvokeConfig')).map((c) => c.Properties)).toEqual([
      expect.objectContaining({ FunctionName: { Ref: resumer }, MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 }),
    ]);
  });

  it('gives both functions the cool-downs, and the resumer the consumer’s name, namespace and service', () => {
    const t = synth({
      serviceName: 'payments',
      metricsNamespace: 'Shop',
      breaker: { coolDown: Duration.seconds(30), maxCoolDown: Duration.hours(1) },
    });
    const { fns, consumer, resumer } = functionIds(t);
    expect(envOf(t, consumer)).toMatchObject({ [ENV.breakerCoolDownSeconds]: '30', [ENV.breakerMaxCoolDownSeconds]: '3600' });
    expect(envOf(t, resumer!)).toEqual({
      [ENV.breakerFunctionName]: { Ref: consumer },
      [ENV.breakerCoolDownSeconds]: '30',
      [ENV.breakerMaxCoolDownSeconds]: '3600',
      [ENV.serviceName]: 'payments',
      [ENV.metricsNamespace]: 'Shop',
    });
    expect(fns[resumer!]!.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Timeout: 50 });
    expect(envOf(synth(), consumer)).toMatchObject({ [ENV.breakerCoolDownSeconds]: '60', [ENV.breakerMaxCoolDownSeconds]: '900' });
  });

  it.each([
    [{ coolDown: Duration.millis(1500) }, 'breaker.coolDown is 1.5 s; the breaker counts its cool-downs in whole seconds'],
    [
      { coolDown: Duration.seconds(0) },
      'breaker.coolDown is 0 s; the breaker counts its cool-downs in whole seconds: give at least Duration.seconds(1)',
    ],
    [{ maxCoolDown: Duration.millis(90_500) }, 'breaker.maxCoolDown is 90.5 s; the breaker counts its cool-downs in whole seconds'],
    [{ coolDown: Duration.minutes(20) }, 'breaker.coolDown (1200 s) is longer than breaker.maxCoolDown (900 s)'],
    [{ maxCoolDown: Duration.hours(13) }, 'breaker.maxCoolDown is 46800 s; it may be at most 43200 s (12 hours)'],
  ])('refuses breaker %j, naming the prop and the fix', (breaker, message) => {
    expect(() => synth({ breaker })).toThrow(message);
  });

  // Lambda guide, "Configuring error handling controls for Kafka event sources": records older than
  // MaximumRecordAgeInSeconds are discarded (to the on-failure destination) rather than processed.
  it('refuses a longest cool-down that is not shorter than maxRecordAge', () => {
    expect(() => synth({ maxRecordAge: Duration.minutes(15) })).toThrow(
      'breaker.maxCoolDown (900 s) is not shorter than maxRecordAge (900 s)',
    );
    expect(() => synth({ maxRecordAge: Duration.minutes(16) })).not.toThrow();
  });

  it('refuses the breaker’s variables in environment, naming the props that set them', () => {
    expect(() => synth({ environment: { [ENV.breakerCoolDownSeconds]: '5' } })).toThrow(
      'environment.BREAKER_COOL_DOWN_SECONDS is set, but KafkaConsumer sets BREAKER_COOL_DOWN_SECONDS itself',
    );
    expect(() => synth({ environment: { [ENV.breakerMaxCoolDownSeconds]: '5' } })).toThrow('give the prop breaker.maxCoolDown instead');
  });
});

describe('the consumer paused alarm (deploy contract)', () => {
  const pausedAlarms = (t: Template) =>
    Object.entries(resourcesOf(t, 'AWS::CloudWatch::Alarm')).filter(([, a]) => a.Properties.MetricName === 'MappingPaused');

  it('alarms per topic on MappingPaused ≥ 1 in one minute, missing data breaching, with the consumer’s namespace and service, to alarmTopic', () => {
    const app = new App({ context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Paused');
    const topic = new sns.Topic(stack, 'Alerts');
    new KafkaConsumer(stack, 'Consumer', { ...base, topics: ['orders', 'payments'], serviceName: 'shop', alarmTopic: topic });
    const alarms = pausedAlarms(Template.fromStack(stack));
    expect(alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'ConsumerConsumerPausedAlarmorders',
      'ConsumerConsumerPausedAlarmpayments',
    ]);
    for (const [i, name] of ['orders', 'payments'].entries()) {
      expect(alarms[i]![1].Properties).toMatchObject({
        Namespace: 'KafkaConsumer',
        Dimensions: [
          { Name: 'service', Value: 'shop' },
          { Name: 'topic', Value: name },
        ],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [stack.resolve(topic.topicArn)],
      });
      expect(String(alarms[i]![1].Properties.AlarmDescription)).toContain(`The mapping of ${name} is paused`);
    }
  });

  it('creates none for mappings disabled by enabled: false, which stay paused by design', () => {
    expect(pausedAlarms(synth({ enabled: false }))).toEqual([]);
  });
});

describe('the outage breaker: what says it cannot act (deploy contract)', () => {
  it('alarms when the breaker could not pause a mapping (BreakerOpenFailed ≥ 1 in 5 minutes) and when the resumer fails', () => {
    const t = synth({ topics: ['orders', 'payments'] });
    const alarms = Object.entries(resourcesOf(t, 'AWS::CloudWatch::Alarm'));
    const failed = alarms.find(([id]) => id.startsWith('ConsumerBreakerOpenFailedAlarm'))![1].Properties;
    expect(failed).toMatchObject({ Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    const stats = (failed.Metrics as Array<{ MetricStat?: { Metric: { MetricName: string }; Period: number } }>).flatMap((m) =>
      m.MetricStat ? [m.MetricStat] : [],
    );
    expect(stats.map((m) => [m.Metric.MetricName, m.Period])).toEqual([
      ['BreakerOpenFailed', 300],
      ['BreakerOpenFailed', 300],
    ]);
    const { resumer } = functionIds(t);
    const errors = alarms.find(([id]) => id.startsWith('ConsumerBreakerResumerErrorsAlarm'))![1].Properties;
    expect(errors).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: resumer } }],
    });
    const off = synth({ breaker: false } as Partial<KafkaConsumerProps>);
    expect(Object.keys(resourcesOf(off, 'AWS::CloudWatch::Alarm')).filter((id) => id.includes('Breaker'))).toEqual([]);
  });
});

describe('the outage breaker: retries it cannot use up (deploy contract)', () => {
  const retries = (t: Template) =>
    Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping')).map((m) => m.Properties.MaximumRetryAttempts);

  it('gives a provisioned mapping without retryAttempts 10,000 retries, not the -1 Lambda caps at 10 with its on-failure destination', () => {
    expect(retries(synth({ topics: ['orders', 'payments'] }))).toEqual([10_000, 10_000]);
  });

  it('warns when retryAttempts is given below 10,000 (or -1) with the breaker on, naming the risk', () => {
    const warnings = (props: Partial<KafkaConsumerProps>) =>
      Annotations.fromStack(synthStack(props).stack)
        .findWarning('*', Match.stringLikeRegexp('breakerWithFewRetries'))
        .map((w) => String(w.entry.data));
    expect(warnings({ retryAttempts: 3 })[0]).toContain('retryAttempts is 3, and the outage breaker redelivers');
    expect(warnings({ retryAttempts: -1 })[0]).toContain('which Lambda caps at 10 with an on-failure destination');
    expect(warnings({ retryAttempts: 10_000 })).toEqual([]);
    expect(warnings({ retryAttempts: -1, failureMode: 'block' })).toEqual([]); // no destination: -1 is infinite
    expect(warnings({})).toEqual([]);
  });

  it('keeps retryAttempts as given, leaves it out with breaker: false and on demand, and block pins -1', () => {
    expect(retries(synth({ retryAttempts: 3 }))).toEqual([3]);
    expect(retries(synth({ breaker: false } as Partial<KafkaConsumerProps>))).toEqual([undefined]);
    expect(retries(synth({ pollerMode: 'on-demand' }))).toEqual([undefined]);
    expect(retries(synth({ failureMode: 'block' }))).toEqual([-1]); // no destination: -1, infinite, set explicitly (failure-modes.test.ts)
  });
});

describe('breaker: false (deploy contract)', () => {
  it('creates nothing of the breaker: no resumer, schedule, grant, alarm, variable, output or widget', () => {
    const { stack, template: t } = synthStack({ breaker: false } as Partial<KafkaConsumerProps>);
    const json = JSON.stringify(t.toJSON());
    expect(
      Object.keys(resourcesOf(t, 'AWS::Lambda::Function'))
        .map((id) => id.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual(['ConsumerFunction', 'ReplayFunction']);
    expect(idsOf(t, 'AWS::Events::Rule')).toEqual([]);
    for (const text of [
      'lambda:UpdateEventSourceMapping',
      'lambda:ListEventSourceMappings',
      'MappingPaused',
      'BreakerOpened',
      ENV.breakerCoolDownSeconds,
      ENV.breakerMaxCoolDownSeconds,
      ENV.breakerFunctionName,
    ])
      expect(json, text).not.toContain(text);
    expect(t.toJSON().Outputs.BreakerFunctionName).toBeUndefined();
    expect(stack.consumer.breakerFunction).toBeUndefined();
  });

  it('with the breaker on, names the resumer in an output and shows the breaker on the dashboard', () => {
    const t = synth();
    const { resumer } = functionIds(t);
    expect(t.toJSON().Outputs.BreakerFunctionName.Value).toEqual({ Ref: resumer });
    const dashboard = JSON.stringify(resourcesOf(t, 'AWS::CloudWatch::Dashboard'));
    for (const metric of ['MappingPaused', 'BreakerOpened', 'RecordsRedeliveredForOutage']) expect(dashboard).toContain(metric);
  });
});
