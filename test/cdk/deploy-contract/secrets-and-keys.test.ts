// Item 8 of issue 17: a SCRAM secret encrypted with a customer-managed key is readable by the mapping and the replay.
import { describe, expect, it } from 'vitest';
import { resourcesOf, synth } from './support.js';

const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf';
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const selfManaged = { cluster: { kind: 'self-managed' as const, bootstrapServers: ['broker-1:9096'] } };

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };
function statementsByRole(template: ReturnType<typeof synth>) {
  const byRole: Record<string, Statement[]> = {};
  for (const p of Object.values(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const role = JSON.stringify(p.Properties.Roles);
    (byRole[role] ??= []).push(...(p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  return Object.values(byRole);
}

describe('the SASL/SCRAM secret and its KMS key', () => {
  // AWS Lambda Developer Guide, "Configuring self-managed Apache Kafka event sources" (execution role
  // permissions): "kms:Decrypt" is needed "if your secret is encrypted with a customer managed key".
  // AWS Secrets Manager User Guide, "Secret encryption and decryption": to read a secret encrypted
  // with a customer managed key, the caller needs kms:Decrypt on that key (Secrets Manager calls KMS
  // on its behalf: condition kms:ViaService secretsmanager.<region>.amazonaws.com).
  it('grants kms:Decrypt on the key, through Secrets Manager, to both the consumer (mapping) and the replay roles', () => {
    const roles = statementsByRole(synth(selfManaged, { authSecretArn: SECRET, authSecretKeyArn: KEY }));
    const decrypting = roles.filter((statements) =>
      statements.some((s) => [s.Action].flat().includes('kms:Decrypt') && s.Resource === KEY),
    );
    expect(decrypting).toHaveLength(2);
    for (const statements of decrypting) {
      const decrypt = statements.find((s) => [s.Action].flat().includes('kms:Decrypt') && s.Resource === KEY)!;
      expect(JSON.stringify(decrypt.Condition)).toContain('secretsmanager.');
      expect(statements.some((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue') && s.Resource === SECRET)).toBe(true);
    }
  });

  it("refuses authSecretKeyArn without a self-managed cluster's secret, which it would otherwise ignore", () => {
    expect(() => synth(selfManaged, { authSecretKeyArn: KEY })).toThrow(
      "authSecretKeyArn is the KMS key of a self-managed cluster's SCRAM secret",
    );
    expect(() => synth({}, { authSecretArn: SECRET, authSecretKeyArn: KEY })).toThrow('give it with authSecretArn (and no clusterArn)');
  });

  it('grants no key without authSecretKeyArn (the AWS managed key needs none)', () => {
    const roles = statementsByRole(synth(selfManaged, { authSecretArn: SECRET }));
    expect(roles.flat().some((s) => [s.Action].flat().includes('kms:Decrypt'))).toBe(false);
  });
});
