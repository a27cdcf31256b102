import { Annotations, CfnParameter, CfnRule, Fn, type Stack } from 'aws-cdk-lib';

/** The account of cdk.json's demo cluster: AWS's documentation placeholder, never a real one. */
export const DEMO_ACCOUNT = '123456789012';

const HOW_TO_DEPLOY =
  'give your cluster: npx cdk deploy -c clusterArn=arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid> -c bootstrapServers=<the IAM bootstrap string> -c topics=<topics> (docs/deploying.md)';

/**
 * cdk.json's demo cluster lets `cdk synth` run offline, but a deploy with it would create the
 * queues, bucket and functions and then fail on the mappings, leaving a retained bucket behind.
 * Synth warns; the template carries a CloudFormation rule that fails before any resource is
 * created (rules are checked when the stack or change set is created, as CDK's own
 * CheckBootstrapVersion rule is), with a message that says which context keys to give.
 */
export function guardDemoValues(stack: Stack, clusterArn: string | undefined): void {
  if (!clusterArn?.includes(`:${DEMO_ACCOUNT}:`)) return;
  Annotations.of(stack).addWarningV2(
    'kafka-consumers:demo-cluster',
    `clusterArn is cdk.json's demo cluster (account ${DEMO_ACCOUNT}): fine for synth, refused at deploy; ${HOW_TO_DEPLOY}.`,
  );
  const marker = new CfnParameter(stack, 'DemoValuesGuard', {
    type: 'String',
    default: 'demo-cluster',
    description: 'Set by the app when it was synthesized with the demo cluster from cdk.json; the DemoValues rule refuses to deploy it.',
  });
  new CfnRule(stack, 'DemoValues', {
    assertions: [
      {
        assert: Fn.conditionNot(Fn.conditionEquals(marker.valueAsString, 'demo-cluster')),
        assertDescription: `This template was synthesized with cdk.json's demo cluster (account ${DEMO_ACCOUNT}); nothing was created. To deploy, ${HOW_TO_DEPLOY}.`,
      },
    ],
  });
}
