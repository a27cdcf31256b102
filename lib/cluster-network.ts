import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** Where a cluster's brokers are reached: its VPC, shared by the mapping, its on-failure destination and the replay function. */
export interface ClusterVpcProps {
  /**
   * The VPC the brokers live in. With it, the replay function runs in this VPC, a self-managed
   * cluster's mapping reaches the brokers through it, and (unless `vpcReachesAwsServices`) the
   * construct adds the VPC endpoints the on-failure destination and the replay need.
   * @default none: the brokers are reachable without a VPC (public)
   */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * The group of the replay function (and of a self-managed cluster's mapping). For MSK, give
   * the cluster's group: the mapping's network interfaces use it too, so the endpoints admit both.
   * @default one created, with egress to the brokers' ports and to HTTPS (the endpoints)
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * The VPC already reaches SQS, S3 and Secrets Manager (a NAT gateway, or endpoints of its own):
   * the construct adds no endpoints.
   * @default false
   */
  readonly vpcReachesAwsServices?: boolean;
}

export interface ClusterNetworkProps extends ClusterVpcProps {
  readonly vpc: ec2.IVpc;
  /** The brokers' ports, for the created group's egress. */
  readonly brokerPorts: number[];
}

/** The AWS services the mapping and the replay function call from inside the cluster's VPC. */
export type EndpointService = 'sqs' | 's3' | 'secretsmanager' | 'lambda' | 'sts';

/**
 * The network side of a cluster in a VPC: the security group and, unless the VPC already has
 * a way out, one endpoint per AWS service used (created on first use), each with a policy that
 * allows exactly the statements added through {@link allow}.
 */
export class ClusterNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  /** Admits HTTPS from `securityGroup` to the interface endpoints. @default none when the VPC reaches AWS services itself */
  readonly endpointSecurityGroup?: ec2.SecurityGroup;
  readonly #policies = new Map<EndpointService, iam.PolicyDocument>();

  constructor(scope: Construct, id: string, props: ClusterNetworkProps) {
    super(scope, id);
    this.vpc = props.vpc;
    this.vpcSubnets = props.vpcSubnets ?? {};
    if (!props.vpcReachesAwsServices) {
      this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc, allowAllOutbound: false, description: 'VPC endpoints of the Kafka consumer: HTTPS from its security group',
      });
    }
    if (props.securityGroup) {
      this.securityGroup = props.securityGroup;
    } else {
      const group = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc: this.vpc, allowAllOutbound: false, description: 'Kafka clients: the brokers and the AWS service endpoints' });
      for (const port of props.brokerPorts) group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `Kafka brokers, port ${port}`);
      if (this.endpointSecurityGroup) group.addEgressRule(this.endpointSecurityGroup, ec2.Port.HTTPS, 'VPC endpoints');
      else group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.HTTPS, 'AWS services through the VPC\'s NAT or endpoints');
      this.securityGroup = group;
    }
    this.endpointSecurityGroup?.addIngressRule(this.securityGroup, ec2.Port.HTTPS, 'Kafka consumer and replay');
  }

  /**
   * Lets `statement` (principal any, resources and actions as narrow as the caller's IAM grant)
   * through the VPC endpoint of `service`, creating that endpoint on first use. Nothing to do
   * when the VPC reaches AWS services itself.
   */
  allow(service: EndpointService, statement: iam.PolicyStatement): void {
    if (!this.endpointSecurityGroup) return;
    let policy = this.#policies.get(service);
    if (!policy) {
      policy = new iam.PolicyDocument();
      this.#policies.set(service, policy);
      this.#endpoint(service, policy);
    }
    policy.addStatements(statement);
  }

  #endpoint(service: EndpointService, policy: iam.PolicyDocument) {
    const subnets = this.vpc.selectSubnets(this.vpcSubnets).subnets;
    const routeTableIds = subnets.map((s) => s.routeTable?.routeTableId);
    if (service === 's3' && routeTableIds.every(Boolean)) {
      // A gateway endpoint is a route: it needs the subnets' route tables.
      new ec2.CfnVPCEndpoint(this, 'S3Endpoint', {
        vpcId: this.vpc.vpcId, serviceName: `com.amazonaws.${Stack.of(this).region}.s3`, vpcEndpointType: 'Gateway',
        routeTableIds: [...new Set(routeTableIds as string[])], policyDocument: policy,
      });
      return;
    }
    // Subnets imported without route tables: S3 through an interface endpoint instead. Built from
    // the L1 resource because the L2 one reads each subnet's availability zone, which an offline
    // import does not know (AWS accepts one subnet per zone for an interface endpoint).
    const [name, aws] = INTERFACE_SERVICES[service];
    new ec2.CfnVPCEndpoint(this, `${name}Endpoint`, {
      vpcId: this.vpc.vpcId, serviceName: aws.name, vpcEndpointType: 'Interface',
      subnetIds: subnets.map((s) => s.subnetId), securityGroupIds: [this.endpointSecurityGroup!.securityGroupId],
      privateDnsEnabled: true, policyDocument: policy,
      // Private DNS for S3 everywhere: "inbound resolver only" assumes a gateway endpoint, which these subnets cannot have.
      ...(service === 's3' ? { dnsOptions: { privateDnsOnlyForInboundResolverEndpoint: 'AllResolvers' } } : {}),
    });
  }
}

const INTERFACE_SERVICES: Record<EndpointService, [string, ec2.InterfaceVpcEndpointAwsService]> = {
  sqs: ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
  s3: ['S3', ec2.InterfaceVpcEndpointAwsService.S3],
  secretsmanager: ['SecretsManager', ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER],
  lambda: ['Lambda', ec2.InterfaceVpcEndpointAwsService.LAMBDA],
  sts: ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
};

/** MSK's broker port for each way the functions authenticate (MSK developer guide, "Port information"). */
export const MSK_BROKER_PORTS = { iam: 9098, scram: 9096, tls: 9094 } as const;

/** The ports in `host:port` bootstrap servers; `fallback` when none names one. */
export function brokerPortsOf(bootstrapServers: readonly string[] | undefined, fallback: number): number[] {
  const ports = (bootstrapServers ?? []).map((s) => Number(/:(\d+)$/.exec(s)?.[1])).filter((p) => Number.isInteger(p) && p > 0);
  return ports.length ? [...new Set(ports)] : [fallback];
}
