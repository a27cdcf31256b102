// Item 4 and 7 of issue 17, and issue 16: the cluster's VPC, its endpoints and security group,
// and the replay function placed in it, from props, from context, and in a user's own stack.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { App, Stack, type CfnResource } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { DeadLetterReplay } from '../../../lib/dead-letter-replay';
import { KafkaConsumer } from '../../../lib/kafka-consumer';
import { clusterVpcIdsFromContext } from '../../../lib/kafka-consumers-stack';
import { CLUSTER, base, resourcesOf, synth, synthStack } from './support';

const ids = { vpcId: 'vpc-0abc1234', subnetIds: ['subnet-0a', 'subnet-0b'] };
/** An MSK cluster's VPC comes with the cluster's own security group. */
const mskIds = { ...ids, securityGroupIds: ['sg-0c'] };
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf';
type Props = Record<string, unknown>;
const endpoints = (t: Template) => Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).map((r) => r.Properties as Props & { ServiceName: { 'Fn::Join': [string, unknown[]] } });
const service = (e: { ServiceName: { 'Fn::Join': [string, unknown[]] } }) => String(e.ServiceName['Fn::Join'][1].at(-1)).replace(/^\./, '');
const egress = (t: Template) => Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroup')).flatMap((g) => (g.Properties.SecurityGroupEgress ?? []) as Props[]).concat(
  Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties));
const replayFunction = (t: Template) => Object.entries(resourcesOf(t, 'AWS::Lambda::Function')).find(([id]) => id.startsWith('Replay'))![1].Properties;

describe('the cluster\'s VPC', () => {
  // AWS Lambda Developer Guide, "Configuring destinations for Amazon MSK event source mappings"
  // (with-msk-on-failure): "You must deploy a VPC endpoint for your on-failure destination service
  // inside your Amazon MSK cluster VPC." A Lambda function in a VPC reaches AWS services only
  // through a NAT gateway or VPC endpoints (Lambda guide, "Giving Lambda functions access to
  // resources in an Amazon VPC" / "Connecting outbound networking to resources in a VPC").
  it('adds one SQS interface endpoint for the on-failure destination and the replay, with a policy as narrow as their grants', () => {
    const t = synth({}, { clusterVpcIds: mskIds });
    const sqs = endpoints(t).filter((e) => service(e) === 'sqs');
    expect(sqs).toHaveLength(1);
    expect(sqs[0]).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true, SubnetIds: ids.subnetIds, VpcId: ids.vpcId });
    const statements = (sqs[0]!.PolicyDocument as { Statement: Array<{ Action: string[]; Resource: { 'Fn::GetAtt': string[] } }> }).Statement;
    expect(statements.map((s) => [s.Resource['Fn::GetAtt'][0]!.replace(/[0-9A-F]{8}$/, ''), s.Action])).toEqual([
      ['ConsumerOnFailureQueue', ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']],
      ['ConsumerDeadLetterQueue', ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']],
    ]);
    expect(endpoints(t).map(service).sort()).toEqual(['s3', 'sqs']); // no Secrets Manager: MSK with IAM reads no secret
  });

  // Amazon VPC User Guide (PrivateLink), "Gateway endpoints": a gateway endpoint is a target in the
  // route tables you choose; an interface endpoint for S3 needs no route table ("AWS PrivateLink
  // for Amazon S3"). aws-cdk-lib `Subnet.fromSubnetId` without a route table warns that
  // `.routeTable.routeTableId` "will return null/undefined", so a gateway built from it would route nothing.
  it('gives S3 a gateway endpoint on the subnets\' route tables when they are known, an interface endpoint otherwise', () => {
    const gateway = endpoints(synth({}, { clusterVpcIds: { ...mskIds, routeTableIds: ['rtb-1', 'rtb-1'] } })).find((e) => service(e) === 's3')!;
    expect(gateway).toMatchObject({ VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-1'] });
    expect(JSON.stringify(gateway.PolicyDocument)).toContain('/dead-letters/*');
    const iface = endpoints(synth({}, { clusterVpcIds: mskIds })).find((e) => service(e) === 's3')!;
    expect(iface).toMatchObject({ VpcEndpointType: 'Interface', SubnetIds: ids.subnetIds, DnsOptions: { PrivateDnsOnlyForInboundResolverEndpoint: 'AllResolvers' } });
  });

  // Lambda guide, "Configuring your Amazon MSK cluster and Amazon VPC network for Lambda": in
  // on-demand mode the mapping invokes the function and gets its role's credentials from the
  // cluster's VPC (a NAT, or Lambda and STS endpoints); provisioned pollers do not need them.
  // Lambda guide, "Configuring your self-managed Apache Kafka cluster and network for Lambda":
  // the Lambda and STS endpoints serve the Lambda service principal. An endpoint policy's
  // principal {"AWS": "*"} covers AWS identities only; "*" covers service principals too.
  it('lets any principal through its endpoints, narrowed by action and resource', () => {
    for (const e of endpoints(synth({ pollerMode: 'on-demand' }, { clusterVpcIds: mskIds }))) {
      for (const statement of (e.PolicyDocument as { Statement: Array<{ Principal: unknown }> }).Statement) expect(statement.Principal).toBe('*');
    }
  });

  it('on demand, adds Lambda and STS endpoints that allow only this function and its role', () => {
    expect(endpoints(synth({}, { clusterVpcIds: mskIds })).map(service).sort()).toEqual(['s3', 'sqs']);
    const t = synth({ pollerMode: 'on-demand' }, { clusterVpcIds: mskIds });
    expect(endpoints(t).map(service).sort()).toEqual(['lambda', 's3', 'sqs', 'sts']);
    const policy = (name: string) => JSON.stringify(endpoints(t).find((e) => service(e) === name)!.PolicyDocument);
    expect(policy('lambda')).toContain('"Action":"lambda:InvokeFunction"');
    expect(policy('lambda')).toMatch(/ConsumerFunction[0-9A-F]{8}","Arn"/);
    expect(policy('sts')).toContain('"Action":"sts:AssumeRole"');
    expect(policy('sts')).toMatch(/ConsumerFunctionServiceRole[0-9A-F]{8}","Arn"/);
  });

  it('adds no endpoint when the VPC already reaches AWS services, and lets the created group out on HTTPS', () => {
    const t = synth({ cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9094'] } }, { clusterVpcIds: { ...ids, vpcReachesAwsServices: true } });
    expect(endpoints(t)).toEqual([]);
    expect(egress(t)).toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }));
  });

  // Amazon MSK Developer Guide, "Port information": 9098 for IAM, 9096 for SASL/SCRAM, 9094 for TLS.
  it.each([
    ['self-managed SCRAM', { cluster: { kind: 'self-managed' as const, bootstrapServers: ['b-1.example:9096'] } }, 9096],
    ['self-managed TLS', { cluster: { kind: 'self-managed' as const, bootstrapServers: ['b-1.example:9094'] } }, 9094],
  ])('creates a security group with egress to the brokers\' port (%s) and to the endpoints only', (_, consumer, port) => {
    const t = synth(consumer, { clusterVpcIds: ids, ...(port === 9096 ? { authSecretArn: SECRET } : {}) });
    const rules = egress(t).filter((r) => r.Description !== 'Disallow all traffic');
    expect(rules).toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: port, ToPort: port, IpProtocol: 'tcp' }));
    expect(rules).toContainEqual(expect.objectContaining({ FromPort: 443, DestinationSecurityGroupId: expect.anything() }));
    expect(rules.filter((r) => r.CidrIp === '0.0.0.0/0').map((r) => r.FromPort)).toEqual([port]);
  });

  // aws-lambda-event-sources, SelfManagedKafkaEventSource: "securityGroup: If your Kafka brokers are
  // only reachable via VPC, provide the security group here" — required together with `vpc`.
  it('gives a self-managed cluster\'s mapping the created security group when vpc comes without one (item 7)', () => {
    const t = synth({ cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9096'] } }, { clusterVpcIds: ids, authSecretArn: SECRET });
    const mapping = Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'))[0]!.Properties;
    const access = mapping.SourceAccessConfigurations as Array<{ Type: string; URI: unknown }>;
    expect(access.find((a) => a.Type === 'VPC_SECURITY_GROUP')!.URI).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ConsumerNetworkSecurityGroup/), 'GroupId'] });
    expect(access.filter((a) => a.Type === 'VPC_SUBNET').map((a) => a.URI)).toEqual(['subnet-0a', 'subnet-0b']);
    const secrets = endpoints(t).find((e) => service(e) === 'secretsmanager')!;
    expect(JSON.stringify(secrets.PolicyDocument)).toContain(SECRET);
  });

  it('places the replay function in the VPC: given subnets, given or created security group', () => {
    expect(replayFunction(synth({}, { clusterVpcIds: mskIds })).VpcConfig).toEqual({ SubnetIds: ids.subnetIds, SecurityGroupIds: ['sg-0c'] });
    const selfManaged = synth({ cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9094'] } }, { clusterVpcIds: ids });
    expect(replayFunction(selfManaged).VpcConfig).toMatchObject({ SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^ConsumerNetworkSecurityGroup/), 'GroupId'] }] });
  });

  // Lambda guide, "Creating a Lambda event source mapping for an Amazon MSK event source": the
  // mapping's hyperplane ENI "uses the subnet and security group configuration of your MSK
  // cluster, not your Lambda function", so endpoints admitting a group of our own would turn it away.
  it('refuses an MSK cluster\'s vpc without the cluster\'s security group', () => {
    expect(() => synth({}, { clusterVpcIds: ids })).toThrow('cluster.securityGroup is required with an MSK cluster\'s vpc');
  });

  // Lambda guide, "Configuring Lambda execution role permissions" (self-managed Kafka): with the
  // brokers only reachable in a VPC, the function's role needs ec2:CreateNetworkInterface,
  // DescribeNetworkInterfaces, DescribeVpcs, DeleteNetworkInterface, DescribeSubnets, DescribeSecurityGroups.
  it('grants a self-managed cluster\'s mapping the EC2 network-interface actions it needs in the VPC', () => {
    const t = synth({ cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9094'] } }, { clusterVpcIds: ids });
    const consumerPolicy = Object.entries(resourcesOf(t, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('ConsumerFunction'))![1].Properties;
    expect(JSON.stringify(consumerPolicy)).toContain(JSON.stringify(['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DeleteNetworkInterface', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups']));
    const msk = Object.entries(resourcesOf(synth({}, { clusterVpcIds: mskIds }), 'AWS::IAM::Policy')).find(([id]) => id.startsWith('ConsumerFunction'))![1].Properties;
    expect(JSON.stringify(msk)).not.toContain('ec2:CreateNetworkInterface'); // MSK: the managed AWSLambdaMSKExecutionRole has them
  });

  it('warns at synth that an MSK cluster without a VPC leaves the replay only public brokers and the destination no endpoint', () => {
    const annotations = Annotations.fromStack(synthStack().stack);
    annotations.hasWarning('/Test/Replay', Match.stringLikeRegexp('reaches only publicly accessible brokers'));
    annotations.hasWarning('/Test/Consumer', Match.stringLikeRegexp('AWS requires a VPC endpoint'));
    expect(Annotations.fromStack(synthStack({}, { clusterVpcIds: mskIds }).stack).findWarning('*', Match.stringLikeRegexp('without its vpc'))).toEqual([]);
  });

  it('lets any stack use DeadLetterReplay with the consumer, placed in the consumer\'s VPC', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Own');
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'brokers', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const securityGroup = new ec2.SecurityGroup(stack, 'ClusterGroup', { vpc });
    const consumer = new KafkaConsumer(stack, 'Orders', { ...base, cluster: { kind: 'msk', clusterArn: CLUSTER, bootstrapServers: ['b-1:9098'], vpc, securityGroup } });
    const replay = new DeadLetterReplay(stack, 'OrdersReplay', { consumer, replayLimit: 5 });
    const t = Template.fromStack(stack);
    const fn = resourcesOf(t, 'AWS::Lambda::Function')[stack.getLogicalId(replay.function.node.defaultChild as CfnResource)]!.Properties;
    expect(fn.VpcConfig).toMatchObject({ SubnetIds: vpc.isolatedSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as CfnResource) })) });
    expect(endpoints(t).find((e) => service(e) === 's3')).toMatchObject({ VpcEndpointType: 'Gateway' });
  });
});

describe('VPC context keys', () => {
  const ctx = (values: Record<string, string>) => (key: string) => values[key];
  it('reads them, comma separated, and refuses what cannot be right', () => {
    expect(clusterVpcIdsFromContext(ctx({}))).toBeUndefined();
    expect(clusterVpcIdsFromContext(ctx({ vpcId: 'vpc-1', subnetIds: 'subnet-a, subnet-b', securityGroupIds: 'sg-1' }))).toEqual({
      vpcId: 'vpc-1', subnetIds: ['subnet-a', 'subnet-b'], securityGroupIds: ['sg-1'], vpcReachesAwsServices: false,
    });
    expect(() => clusterVpcIdsFromContext(ctx({ subnetIds: 'subnet-a' }))).toThrow('context subnetIds given without vpcId: give -c vpcId=vpc-… too.');
    expect(() => clusterVpcIdsFromContext(ctx({ vpcId: 'vpc-1', vpcReachesAwsServices: 'yes' }))).toThrow('context vpcReachesAwsServices is "yes"; use true or false.');
    expect(() => synth({}, { clusterVpcIds: { vpcId: 'vpc-1', subnetIds: [] } })).toThrow('subnetIds is empty: with vpcId vpc-1, give the subnets to run in');
    expect(() => synth({}, { clusterVpcIds: { ...ids, routeTableIds: ['rtb-1'] } })).toThrow('routeTableIds has 1 entries for 2 subnetIds');
    expect(() => synth({}, { clusterVpcIds: { ...ids, securityGroupIds: ['sg-1', 'sg-2'] } })).toThrow('securityGroupIds has 2 groups (sg-1, sg-2); give one');
  });

  it('synthesizes from the command line with the VPC keys: replay VpcConfig and the SQS and S3 endpoints, cdk-nag clean', () => {
    const out = `cdk.out/test-vpc-${Date.now()}`;
    const run = spawnSync('npx', ['cdk', 'synth', '-q', '--output', out, '-c', 'vpcId=vpc-0abc', '-c', 'subnetIds=subnet-0a,subnet-0b', '-c', 'securityGroupIds=sg-0c'], {
      encoding: 'utf8', env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/AwsSolutions-/);
    expect(run.stderr).not.toContain('without its vpc');
    const t = Template.fromJSON(JSON.parse(readFileSync(`${out}/KafkaConsumers.template.json`, 'utf8')));
    expect(replayFunction(t).VpcConfig).toEqual({ SubnetIds: ['subnet-0a', 'subnet-0b'], SecurityGroupIds: ['sg-0c'] });
    expect(endpoints(t).map(service).sort()).toEqual(['s3', 'sqs']);
  });
});
