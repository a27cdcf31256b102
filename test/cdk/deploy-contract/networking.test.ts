// Item 4 and 7 of issue 17, and issue 16: the cluster's VPC, its endpoints and security group,
// and the replay function placed in it, from props, from context, and in a user's own stack.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Stack, type CfnResource } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { DeadLetterReplay } from '../../../src/constructs/dead-letter-replay.js';
import { KafkaConsumer } from '../../../src/constructs/kafka-consumer.js';
import { clusterVpcIdsFromContext } from '../../../app/kafka-consumers-stack.js';
import { CLOUDFORMATION_SCHEMAS, CLUSTER, base, resourcesOf, synth, synthStack } from './support.js';

const ids = { vpcId: 'vpc-0abc1234', subnetIds: ['subnet-0a', 'subnet-0b'] };
/** An MSK cluster's VPC comes with the cluster's own security group. */
const CLUSTER_GROUP = 'sg-0c0c0c0c';
const mskIds = { ...ids, securityGroupIds: [CLUSTER_GROUP] };
const SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:kafka-AbCdEf';
type Props = Record<string, unknown>;
const endpoints = (t: Template) =>
  Object.values(resourcesOf(t, 'AWS::EC2::VPCEndpoint')).map(
    (r) => r.Properties as Props & { ServiceName: { 'Fn::Join': [string, unknown[]] } },
  );
const service = (e: { ServiceName: { 'Fn::Join': [string, unknown[]] } }) => String(e.ServiceName['Fn::Join'][1].at(-1)).replace(/^\./, '');
const egress = (t: Template) =>
  Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroup'))
    .flatMap((g) => (g.Properties.SecurityGroupEgress ?? []) as Props[])
    .concat(Object.values(resourcesOf(t, 'AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties));
const replayFunction = (t: Template) =>
  Object.entries(resourcesOf(t, 'AWS::Lambda::Function')).find(([id]) => id.startsWith('Replay'))![1].Properties;

describe("the cluster's VPC", () => {
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
    const statements = (sqs[0]!.PolicyDocument as { Statement: Array<{ Action: string[]; Resource: { 'Fn::GetAtt': string[] } }> })
      .Statement;
    expect(statements.map((s) => [s.Resource['Fn::GetAtt'][0]!.replace(/[0-9A-F]{8}$/, ''), s.Action])).toEqual([
      ['ConsumerOnFailureQueue', ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']],
      [
        'ConsumerDeadLetterQueue',
        [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
          'sqs:GetQueueUrl',
          'sqs:SendMessage',
        ],
      ],
    ]);
    expect(endpoints(t).map(service).sort()).toEqual(['s3', 'sqs']); // no Secrets Manager: MSK with IAM reads no secret
  });

  // Amazon VPC User Guide (PrivateLink), "Gateway endpoints": a gateway endpoint is a target in the
  // route tables you choose; an interface endpoint for S3 needs no route table ("AWS PrivateLink
  // for Amazon S3"). aws-cdk-lib `Subnet.fromSubnetId` without a route table warns that
  // `.routeTable.routeTableId` "will return null/undefined", so a gateway built from it would route nothing.
  it("gives S3 a gateway endpoint on the subnets' route tables when they are known, an interface endpoint otherwise", () => {
    const gateway = endpoints(synth({}, { clusterVpcIds: { ...mskIds, routeTableIds: ['rtb-1', 'rtb-1'] } })).find(
      (e) => service(e) === 's3',
    )!;
    expect(gateway).toMatchObject({ VpcEndpointType: 'Gateway', RouteTableIds: ['rtb-1'] });
    expect(JSON.stringify(gateway.PolicyDocument)).toContain('/dead-letters/*');
    const iface = endpoints(synth({}, { clusterVpcIds: mskIds })).find((e) => service(e) === 's3')!;
    expect(iface).toMatchObject({
      VpcEndpointType: 'Interface',
      SubnetIds: ids.subnetIds,
      DnsOptions: { PrivateDnsOnlyForInboundResolverEndpoint: 'AllResolvers' },
    });
  });

  // The roles call the SQS, S3 and Secrets Manager endpoints; each statement is as narrow as the grant it lets through.
  it('lets any principal through its service endpoints, narrowed by action and resource', () => {
    for (const e of endpoints(synth({}, { clusterVpcIds: mskIds }))) {
      for (const statement of (e.PolicyDocument as { Statement: Array<{ Principal: unknown; Resource: unknown }> }).Statement) {
        expect(statement.Principal).toBe('*');
        expect(statement.Resource).not.toBe('*');
      }
    }
  });

  // Lambda guide, "Configuring your Amazon MSK cluster and Amazon VPC network for Lambda": in
  // on-demand mode the mapping invokes the function and gets its role's credentials from the
  // cluster's VPC (a NAT, or Lambda and STS endpoints); provisioned pollers do not need them.
  // Lambda guide, "Configuring your self-managed Apache Kafka cluster and network for Lambda"
  // (and the MSK page): the endpoint policies must let the Lambda service principal call
  // sts:AssumeRole and lambda:InvokeFunction; restricting them "prevents the event source mapping
  // from functioning properly, so "Resource": "*" is required in these policies". The guide's
  // example policies name the principal {"Service": ["lambda.amazonaws.com"]}.
  it('on demand, adds Lambda and STS endpoints that let the Lambda service principal call them on any resource', () => {
    expect(
      endpoints(synth({}, { clusterVpcIds: mskIds }))
        .map(service)
        .sort(),
    ).toEqual(['s3', 'sqs']);
    const t = synth({ pollerMode: 'on-demand' }, { clusterVpcIds: mskIds });
    expect(endpoints(t).map(service).sort()).toEqual(['lambda', 's3', 'sqs', 'sts']);
    const policy = (name: string) => endpoints(t).find((e) => service(e) === name)!.PolicyDocument;
    expect(policy('lambda')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'lambda:InvokeFunction', Resource: '*' }],
    });
    expect(policy('sts')).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole', Resource: '*' }],
    });
  });

  it('adds no endpoint when the VPC already reaches AWS services, and lets the created group out on HTTPS', () => {
    const t = synth(
      { cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9094'] } },
      { clusterVpcIds: { ...ids, vpcReachesAwsServices: true } },
    );
    expect(endpoints(t)).toEqual([]);
    expect(egress(t)).toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 }));
  });

  // Amazon MSK Developer Guide, "Port information": 9098 for IAM, 9096 for SASL/SCRAM, 9094 for TLS.
  it.each([
    ['self-managed SCRAM', { cluster: { kind: 'self-managed' as const, bootstrapServers: ['b-1.example:9096'] } }, 9096],
    ['self-managed TLS', { cluster: { kind: 'self-managed' as const, bootstrapServers: ['b-1.example:9094'] } }, 9094],
  ])("creates a security group with egress to the brokers' port (%s) and to the endpoints only", (_, consumer, port) => {
    const t = synth(consumer, { clusterVpcIds: ids, ...(port === 9096 ? { authSecretArn: SECRET } : {}) });
    const rules = egress(t).filter((r) => r.Description !== 'Disallow all traffic');
    expect(rules).toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: port, ToPort: port, IpProtocol: 'tcp' }));
    expect(rules).toContainEqual(expect.objectContaining({ FromPort: 443, DestinationSecurityGroupId: expect.anything() }));
    expect(rules.filter((r) => r.CidrIp === '0.0.0.0/0').map((r) => r.FromPort)).toEqual([port]);
  });

  // Amazon VPC User Guide (PrivateLink), "Gateway endpoints for Amazon S3", Considerations: "The
  // rules for the security groups for your instances that access Amazon S3 through a gateway
  // endpoint must allow traffic to and from Amazon S3. You can reference the ID of the prefix list
  // for Amazon S3 in security group rules." The id differs by region: looked up at deploy.
  it("lets the created group reach S3 through a gateway endpoint, by the region's S3 prefix list", () => {
    const t = synth(
      { cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9094'] } },
      { clusterVpcIds: { ...ids, routeTableIds: ['rtb-1', 'rtb-2'] } },
    );
    expect(endpoints(t).find((e) => service(e) === 's3')).toMatchObject({ VpcEndpointType: 'Gateway' });
    const lookup = Object.entries(resourcesOf(t, 'Custom::AWS')).find(([id]) => id.includes('S3PrefixList'))!;
    // The call's JSON, with the stack's region as a token in an environment-agnostic stack.
    const call = JSON.stringify(lookup[1].Properties.Create);
    for (const part of [
      '"service\\":\\"EC2\\"',
      'describeManagedPrefixLists',
      'prefix-list-name',
      'com.amazonaws.',
      '{"Ref":"AWS::Region"}',
      '.s3',
      'PrefixLists.0.PrefixListId',
    ])
      expect(call).toContain(part);
    // The exact egress set: the brokers, the interface endpoints (SQS for the replay), S3's prefix list.
    expect(
      egress(t)
        .filter((r) => r.Description !== 'Disallow all traffic')
        .map((r) => `${String(r.FromPort)} ${String(r.CidrIp ?? (r.DestinationPrefixListId ? 'S3 prefix list' : 'endpoints'))}`)
        .sort(),
    ).toEqual(['443 S3 prefix list', '443 endpoints', '9094 0.0.0.0/0']);
    expect(egress(t).find((r) => r.DestinationPrefixListId)!.DestinationPrefixListId).toEqual({
      'Fn::GetAtt': [lookup[0], 'PrefixLists.0.PrefixListId'],
    });
  });

  // Only interface endpoints take a security group: an MSK consumer whose only way out is a Kafka
  // failure topic (in the cluster) or an S3 gateway needs none.
  it("creates the endpoints' security group only with the first interface endpoint", () => {
    const stack = new Stack(new App({ context: { ...CLOUDFORMATION_SCHEMAS, 'aws:cdk:bundling-stacks': [] } }), 'Own');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: ids.vpcId,
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ids.subnetIds,
    });
    const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'ClusterGroup', CLUSTER_GROUP);
    new KafkaConsumer(stack, 'Orders', {
      ...base,
      cluster: { kind: 'msk', clusterArn: CLUSTER, vpc, securityGroup },
      onFailure: new sources.KafkaDlq('orders-failed'),
    });
    const t = Template.fromStack(stack);
    expect(endpoints(t)).toEqual([]);
    t.resourceCountIs('AWS::EC2::SecurityGroup', 0);
  });

  // AWS does not document from which network the pollers call a Confluent schema registry: the
  // created group may reach the registry's port, and its secret goes through the Secrets Manager endpoint.
  it("lets the created group reach a Confluent schema registry's port, and its secret through the Secrets Manager endpoint", () => {
    const imports = new Stack();
    const registrySecret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf';
    let n = 0;
    const registry = (uri: string) =>
      new sources.ConfluentSchemaRegistry({
        schemaRegistryUri: uri,
        eventRecordFormat: lambda.EventRecordFormat.JSON,
        authenticationType: lambda.KafkaSchemaRegistryAccessConfigType.BASIC_AUTH,
        secret: secretsmanager.Secret.fromSecretCompleteArn(imports, `Registry${n++}`, registrySecret),
        schemaValidationConfigs: [{ attribute: lambda.KafkaSchemaValidationAttribute.VALUE }],
      });
    const t = synth(
      {
        cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9096'] },
        schemaRegistryConfig: registry('https://registry.internal:8081'),
      },
      { clusterVpcIds: ids, authSecretArn: SECRET },
    );
    expect(egress(t)).toContainEqual(expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 8081, ToPort: 8081, IpProtocol: 'tcp' }));
    expect(JSON.stringify(endpoints(t).find((e) => service(e) === 'secretsmanager')!.PolicyDocument)).toContain(registrySecret);
    const defaultPort = synth(
      {
        cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9096'] },
        schemaRegistryConfig: registry('https://registry.internal'),
      },
      { clusterVpcIds: ids, authSecretArn: SECRET },
    );
    expect(egress(defaultPort)).toContainEqual(
      expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, Description: 'Confluent schema registry, port 443' }),
    );
    // The cluster's own group (MSK) is its owner's to open.
    const msk = synth({ schemaRegistryConfig: registry('https://registry.internal:8082') }, { clusterVpcIds: mskIds });
    expect(egress(msk).filter((r) => r.Description !== 'Disallow all traffic')).toEqual([]);
  });

  // aws-lambda-event-sources, SelfManagedKafkaEventSource: "securityGroup: If your Kafka brokers are
  // only reachable via VPC, provide the security group here" — required together with `vpc`.
  it("gives a self-managed cluster's mapping the created security group when vpc comes without one (item 7)", () => {
    const t = synth(
      { cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9096'] } },
      { clusterVpcIds: ids, authSecretArn: SECRET },
    );
    const mapping = Object.values(resourcesOf(t, 'AWS::Lambda::EventSourceMapping'))[0]!.Properties;
    const access = mapping.SourceAccessConfigurations as Array<{ Type: string; URI: unknown }>;
    expect(access.find((a) => a.Type === 'VPC_SECURITY_GROUP')!.URI).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^ConsumerNetworkSecurityGroup/), 'GroupId'],
    });
    expect(access.filter((a) => a.Type === 'VPC_SUBNET').map((a) => a.URI)).toEqual(['subnet-0a', 'subnet-0b']);
    const secrets = endpoints(t).find((e) => service(e) === 'secretsmanager')!;
    expect(JSON.stringify(secrets.PolicyDocument)).toContain(SECRET);
  });

  it('places the replay function in the VPC: given subnets, given or created security group', () => {
    expect(replayFunction(synth({}, { clusterVpcIds: mskIds })).VpcConfig).toEqual({
      SubnetIds: ids.subnetIds,
      SecurityGroupIds: [CLUSTER_GROUP],
    });
    const selfManaged = synth({ cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9094'] } }, { clusterVpcIds: ids });
    expect(replayFunction(selfManaged).VpcConfig).toMatchObject({
      SecurityGroupIds: [{ 'Fn::GetAtt': [expect.stringMatching(/^ConsumerNetworkSecurityGroup/), 'GroupId'] }],
    });
  });

  // Lambda guide, "Creating a Lambda event source mapping for an Amazon MSK event source": the
  // mapping's hyperplane ENI "uses the subnet and security group configuration of your MSK
  // cluster, not your Lambda function", so endpoints admitting a group of our own would turn it away.
  it("refuses an MSK cluster's vpc without the cluster's security group", () => {
    expect(() => synth({}, { clusterVpcIds: ids })).toThrow("cluster.securityGroup is required with an MSK cluster's vpc");
  });

  // Lambda guide, "Configuring Lambda execution role permissions" (self-managed Kafka): with the
  // brokers only reachable in a VPC, the function's role needs ec2:CreateNetworkInterface,
  // DescribeNetworkInterfaces, DescribeVpcs, DeleteNetworkInterface, DescribeSubnets, DescribeSecurityGroups.
  it("grants a self-managed cluster's mapping the EC2 network-interface actions it needs in the VPC", () => {
    const t = synth({ cluster: { kind: 'self-managed', bootstrapServers: ['b-1.example:9094'] } }, { clusterVpcIds: ids });
    const consumerPolicy = Object.entries(resourcesOf(t, 'AWS::IAM::Policy')).find(([id]) => id.startsWith('ConsumerFunction'))![1]
      .Properties;
    expect(JSON.stringify(consumerPolicy)).toContain(
      JSON.stringify([
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeVpcs',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeSubnets',
        'ec2:DescribeSecurityGroups',
      ]),
    );
    const msk = Object.entries(resourcesOf(synth({}, { clusterVpcIds: mskIds }), 'AWS::IAM::Policy')).find(([id]) =>
      id.startsWith('ConsumerFunction'),
    )![1].Properties;
    expect(JSON.stringify(msk)).not.toContain('ec2:CreateNetworkInterface'); // MSK: the managed AWSLambdaMSKExecutionRole has them
  });

  it('warns at synth that an MSK cluster without a VPC leaves the replay only public brokers and the destination no endpoint', () => {
    const annotations = Annotations.fromStack(synthStack().stack);
    annotations.hasWarning('/Test/Replay', Match.stringLikeRegexp('reaches only publicly accessible brokers'));
    annotations.hasWarning('/Test/Consumer', Match.stringLikeRegexp('on-failure destination \\(SQS\\).*AWS requires a VPC endpoint'));
    expect(
      Annotations.fromStack(synthStack({}, { clusterVpcIds: mskIds }).stack).findWarning('*', Match.stringLikeRegexp('without its vpc')),
    ).toEqual([]);
    // The warning names the destination's service; a Kafka failure topic is in the cluster and needs no endpoint.
    const viaSns = synthStack({
      onFailure: new sources.SnsDlq(sns.Topic.fromTopicArn(new Stack(), 'T', 'arn:aws:sns:us-east-1:123456789012:failures')),
    }).stack;
    Annotations.fromStack(viaSns).hasWarning('/Test/Consumer', Match.stringLikeRegexp('on-failure destination \\(SNS\\)'));
    expect(
      Annotations.fromStack(synthStack({ onFailure: new sources.KafkaDlq('orders-failed') }).stack).findWarning(
        '/Test/Consumer',
        Match.anyValue(),
      ),
    ).toEqual([]);
  });

  // aws-cdk-lib InterfaceVpcEndpointProps.subnets: "At most one per availability zone"; a VPC
  // with two private tiers has two subnets in each zone, and CloudFormation refuses the endpoint.
  it('gives each interface endpoint one subnet per availability zone when the VPC has several private tiers', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Tiers');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [
        { name: 'brokers', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        { name: 'apps', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      ],
    });
    const securityGroup = new ec2.SecurityGroup(stack, 'ClusterGroup', { vpc });
    new KafkaConsumer(stack, 'Orders', {
      ...base,
      cluster: { kind: 'msk', clusterArn: CLUSTER, bootstrapServers: ['b-1:9098'], vpc, securityGroup },
    });
    const t = Template.fromStack(stack);
    const zoneOf = new Map(vpc.isolatedSubnets.map((s) => [stack.resolve(s.subnetId).Ref as string, s.availabilityZone]));
    const interfaces = endpoints(t).filter((e) => e.VpcEndpointType === 'Interface');
    expect(interfaces.map(service)).toEqual(['sqs']);
    for (const e of interfaces) {
      const zones = (e.SubnetIds as Array<{ Ref: string }>).map((s) => zoneOf.get(s.Ref));
      expect(zones.sort()).toEqual([...new Set(vpc.isolatedSubnets.map((s) => s.availabilityZone))].sort());
    }
  });

  // VPC guide: a route table holds one route per S3 prefix list (one gateway endpoint), and a VPC
  // one private-DNS interface endpoint per service; a second consumer's would fail the deployment.
  it('refuses two consumers that would each create the same endpoint in one VPC, naming both', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Two');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'brokers', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const securityGroup = new ec2.SecurityGroup(stack, 'ClusterGroup', { vpc });
    const cluster = { kind: 'msk' as const, clusterArn: CLUSTER, bootstrapServers: ['b-1:9098'], vpc, securityGroup };
    new KafkaConsumer(stack, 'Orders', { ...base, cluster });
    expect(
      () => new KafkaConsumer(stack, 'Payments', { ...base, topics: ['payments'], consumerGroupId: 'payments-group', cluster }),
    ).toThrow(/Two\/Orders and Two\/Payments would both create the sqs VPC endpoint in VPC .*set vpcReachesAwsServices: true on both/);
    // Endpoints managed by the user: both consumers fit in the VPC.
    const reaches = { ...cluster, vpcReachesAwsServices: true };
    const other = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Own');
    const otherVpc = new ec2.Vpc(other, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'brokers', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const otherGroup = new ec2.SecurityGroup(other, 'ClusterGroup', { vpc: otherVpc });
    new KafkaConsumer(other, 'Orders', { ...base, cluster: { ...reaches, vpc: otherVpc, securityGroup: otherGroup } });
    new KafkaConsumer(other, 'Payments', {
      ...base,
      topics: ['payments'],
      consumerGroupId: 'payments-group',
      cluster: { ...reaches, vpc: otherVpc, securityGroup: otherGroup },
    });
    expect(endpoints(Template.fromStack(other))).toEqual([]);
  });

  it("lets any stack use DeadLetterReplay with the consumer, placed in the consumer's VPC", () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Own');
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'brokers', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const securityGroup = new ec2.SecurityGroup(stack, 'ClusterGroup', { vpc });
    const consumer = new KafkaConsumer(stack, 'Orders', {
      ...base,
      cluster: { kind: 'msk', clusterArn: CLUSTER, bootstrapServers: ['b-1:9098'], vpc, securityGroup },
    });
    const replay = new DeadLetterReplay(stack, 'OrdersReplay', { consumer, replayLimit: 5 });
    const t = Template.fromStack(stack);
    const fn = resourcesOf(t, 'AWS::Lambda::Function')[stack.getLogicalId(replay.function.node.defaultChild as CfnResource)]!.Properties;
    expect(fn.VpcConfig).toMatchObject({
      SubnetIds: vpc.isolatedSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as CfnResource) })),
    });
    expect(endpoints(t).find((e) => service(e) === 's3')).toMatchObject({ VpcEndpointType: 'Gateway' });
  });
});

describe('VPC context keys', () => {
  const ctx = (values: Record<string, string>) => (key: string) => values[key];
  it('reads them, comma separated, and refuses what cannot be right', () => {
    expect(clusterVpcIdsFromContext(ctx({}))).toBeUndefined();
    expect(clusterVpcIdsFromContext(ctx({ vpcId: 'vpc-1', subnetIds: 'subnet-a, subnet-b', securityGroupIds: 'sg-1' }))).toEqual({
      vpcId: 'vpc-1',
      subnetIds: ['subnet-a', 'subnet-b'],
      securityGroupIds: ['sg-1'],
      vpcReachesAwsServices: false,
    });
    expect(() => clusterVpcIdsFromContext(ctx({ subnetIds: 'subnet-a' }))).toThrow(
      'context subnetIds given without vpcId: give -c vpcId=vpc-… too.',
    );
    expect(() => clusterVpcIdsFromContext(ctx({ vpcId: 'vpc-1', vpcReachesAwsServices: 'yes' }))).toThrow(
      'context vpcReachesAwsServices is "yes"; use true or false.',
    );
    expect(() => synth({}, { clusterVpcIds: { vpcId: 'vpc-1', subnetIds: [] } })).toThrow(
      'subnetIds is empty: with vpcId vpc-1, give the subnets to run in',
    );
    expect(() => synth({}, { clusterVpcIds: { ...ids, routeTableIds: ['rtb-1'] } })).toThrow('routeTableIds has 1 entries for 2 subnetIds');
    expect(() => synth({}, { clusterVpcIds: { ...ids, securityGroupIds: ['sg-1', 'sg-2'] } })).toThrow(
      'securityGroupIds has 2 groups (sg-1, sg-2); give one',
    );
  });

  it('synthesizes from the command line with the VPC keys: replay VpcConfig and the SQS and S3 endpoints, cdk-nag clean', () => {
    // Under the test file's scratch directory, removed (after cfn-lint) when the file is done.
    const out = mkdtempSync(path.join(tmpdir(), 'cdk-vpc-'));
    const run = spawnSync(
      'npx',
      [
        'cdk',
        'synth',
        '-q',
        '--output',
        out,
        '-c',
        'vpcId=vpc-0abc1234',
        '-c',
        'subnetIds=subnet-0a,subnet-0b',
        '-c',
        'securityGroupIds=sg-0c0c0c0c',
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/AwsSolutions-/);
    expect(run.stderr).not.toContain('without its vpc');
    const t = Template.fromJSON(JSON.parse(readFileSync(`${out}/KafkaConsumers.template.json`, 'utf8')));
    expect(replayFunction(t).VpcConfig).toEqual({ SubnetIds: ['subnet-0a', 'subnet-0b'], SecurityGroupIds: ['sg-0c0c0c0c'] });
    expect(endpoints(t).map(service).sort()).toEqual(['s3', 'sqs']);
  });
});
