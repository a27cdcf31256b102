// Item 4 of issue 29: every template the tests synthesize goes through cfn-lint (test/cdk/scratch-tmpdir.ts,
// test/package), errors and unlisted warnings failing the test. This file shows the check can
// fail, and that .cfnlintrc ignores only what it lists. cfn-lint: "checks CloudFormation
// templates against the CloudFormation resource specification … value ranges, patterns,
// relationships" (https://github.com/aws-cloudformation/cfn-lint); the queue's retention is
// 60–1,209,600 s (AWS::SQS::Queue MessageRetentionPeriod,
// https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sqs-queue.html).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cfnLintInstalled, lintTemplateFiles } from '../../support/cfn-lint.js';

// Not a *.template.json: the scratch directory's own lint must not see these on purpose-broken templates.
const dir = mkdtempSync(path.join(tmpdir(), 'cfn-lint-contract-'));
function templateFile(name: string, resources: Record<string, unknown>, parameters: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ AWSTemplateFormatVersion: '2010-09-09', Parameters: parameters, Resources: resources }));
  return file;
}

const role = {
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    },
  },
};
const fn = (extra: object) => ({
  Type: 'AWS::Lambda::Function',
  Properties: {
    Runtime: 'nodejs24.x',
    Handler: 'index.handler',
    Code: { ZipFile: 'exports.handler = async () => {}' },
    Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
  },
  ...extra,
});

describe.skipIf(!cfnLintInstalled())('cfn-lint on the templates (deploy contract)', () => {
  it('reports an error, naming the template, the property and the check, in one process for several templates', () => {
    const bad = templateFile('short-retention', { Queue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 30 } } });
    const good = templateFile('fine', { Queue: { Type: 'AWS::SQS::Queue', Properties: { MessageRetentionPeriod: 60 } } });
    const findings = lintTemplateFiles([bad, good]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(/^Error E\d{4} in .*short-retention\.json at Resources\/Queue\/Properties\/MessageRetentionPeriod: /);
  });

  it("ignores only what .cfnlintrc lists: W3005 (aws-cdk-lib's DependsOn on the function's role), not other warnings", () => {
    expect(lintTemplateFiles([templateFile('depends-on-role', { Role: role, Fn: fn({ DependsOn: ['Role'] }) })])).toEqual([]);
    const unused = templateFile('unused-parameter', { Role: role, Fn: fn({}) }, { Unused: { Type: 'String' } });
    expect(lintTemplateFiles([unused])).toEqual([expect.stringMatching(/^Warning W2001 .*Parameters\/Unused/)]);
  });
});
