import { Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledgePrefixListLookup } from './cdk-nag-acknowledgements.js';
import { ConstructPropsError } from './errors.js';

/** Where a cluster's brokers are reached: its VPC, shared by the mapping, its on-failure destination and the replay function. */
export interface ClusterVpcProps {
  /**
   * The VPC the brokers live in. With it, the replay function runs in this VPC, a self-managed
   * cluster's mapping reaches the brokers through it, and (unless `vpcReachesAwsServices`) the
   * construct adds the VPC endpoints the on-failure destination and the replay need.
   * @default none: the brokers are reachable without a VPC (public)
   */
  readonly vpc?: ec2.IVpc;
  /** The subnets of the replay function, the VPC endpoints and a self-managed cluster's mappings. @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * The group of the replay function (and of a self-managed cluster's mapping). For MSK, give
   * the cluster's group: the mapping's network interfaces use it too, so the endpoints admit both.
   * @default one created, with egress to the brokers' ports, to HTTPS on the endpoints (and on
   * S3's prefix list with a gateway endpoint) and to a Confluent schema registry's port
   */
  readonly securityGroup?: ec2.ISecurityGroup;
  /**
   * The VPC already reaches SQS, S3, Secrets Manager and (with failureMode 'park-key') DynamoDB
   * (a NAT gateway, or endpoints of its own):
   * the construct adds no endpoints.
   * @default false
   */
  readonly vpcReachesAwsServices?: boolean;
}

/** The VPC endpoints each stack's networks create, by VPC and service: who created each. */
const ENDPOINT_CLAIMS = new WeakMap<Stack, Map<string, string>>();

/** A {@link ClusterNetwork}'s VPC (required here) and the brokers' ports. */
export interface ClusterNetworkProps extends ClusterVpcProps {
  /** The cluster's VPC. */
  readonly vpc: ec2.IVpc;
  /** The brokers' ports, for the created group's egress. */
  readonly brokerPorts: number[];
}

/** The AWS services the mapping and the replay function call from inside the cluster's VPC. */
export type EndpointService = 'sqs' | 'sns' | 's3' | 'dynamodb' | 'secretsmanager' | 'lambda' | 'sts';

/** The services with a gateway endpoint (a route, free), used when the subnets' route tables are known. */
const GATEWAY_SERVICES: Partial<Record<EndpointService, string>> = { s3: 'S3', dynamodb: 'DynamoDb' };

/**
 * Interface endpoints without private DNS, and the SDK's variable naming the URL to call instead:
 * "AWS PrivateLink for Amazon DynamoDB does not support … Private and Hybrid DNS services"; the
 * endpoint is reached by its endpoint-specific DNS name
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/privatelink-interface-endpoints.html),
 * which the SDK takes from AWS_ENDPOINT_URL_<SERVICE> (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
const NO_PRIVATE_DNS: Partial<Record<EndpointService, string>> = { dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB' };

/**
 * The network side of a cluster in a VPC: the security group and, unless the VPC already has
 * a way out, one endpoint per AWS service used (created on first use), each with a policy that
 * allows exactly the statements added through {@link ClusterNetwork.allow}.
 */
export class ClusterNetwork extends Construct {
  /** The cluster's VPC. */
  readonly vpc: ec2.IVpc;
  /** The subnets the mappings and the replay function run in. */
  readonly vpcSubnets: ec2.SubnetSelection;
  /** The group given, or the one created here with egress to the brokers and the endpoints. */
  readonly securityGroup: ec2.ISecurityGroup;
  /** The group created here when none was given: its egress is this construct's to add to. */
  readonly #createdGroup?: ec2.SecurityGroup;
  readonly #reachesAwsServices: boolean;
  #endpointGroup?: ec2.SecurityGroup;
  readonly #policies = new Map<EndpointService, iam.PolicyDocument>();
  /** SDK variables naming the interface endpoints their service's own name does not reach (NO_PRIVATE_DNS). */
  readonly #sdkEndpoints: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: ClusterNetworkProps) {
    super(scope, id);
    this.vpc = props.vpc;
    this.vpcSubnets = props.vpcSubnets ?? {};
    this.#reachesAwsServices = props.vpcReachesAwsServices ?? false;
    if (props.securityGroup) {
      this.securityGroup = props.securityGroup;
    } else {
      const group = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: this.vpc,
        allowAllOutbound: false,
        description: 'Kafka clients: the brokers and the AWS service endpoints',
      });
      for (const port of props.brokerPorts) group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `Kafka brokers, port ${port}`);
      if (this.#reachesAwsServices)
        group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.HTTPS, "AWS services through the VPC's NAT or endpoints");
      this.securityGroup = this.#createdGroup = group;
    }
  }

  /**
   * Admits HTTPS from `securityGroup` to the interface endpoints. @default none until an
   * interface endpoint is created (never when the VPC reaches AWS services itself)
   */
  get endpointSecurityGroup(): ec2.SecurityGroup | undefined {
    return this.#endpointGroup;
  }

  /**
   * What the functions in the VPC must set for their SDK to reach the endpoints created so far:
   * `AWS_ENDPOINT_URL_DYNAMODB` with DynamoDB's interface endpoint (no private DNS, so
   * `dynamodb.<region>.amazonaws.com` does not lead to it). Empty with gateway endpoints, which are routes.
   */
  get sdkEndpointEnvironment(): Readonly<Record<string, string>> {
    return this.#sdkEndpoints;
  }

  /**
   * Lets the created security group reach `port` anywhere (a service outside AWS, such as a
   * schema registry). A group that was given is its owner's: nothing is added to it.
   */
  addClientEgress(port: number, description: string): void {
    this.#createdGroup?.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(port), `${description}, port ${port}`);
  }

  /**
   * Lets `statement` (principal any, resources and actions as narrow as the caller's IAM grant)
   * through the VPC endpoint of `service`, creating that endpoint on first use. Nothing to do
   * when the VPC reaches AWS services itself.
   */
  allow(service: EndpointService, statement: iam.PolicyStatement): void {
    if (this.#reachesAwsServices) return;
    let policy = this.#policies.get(service);
    if (!policy) {
      this.#claimEndpoint(service);
      policy = new iam.PolicyDocument();
      this.#policies.set(service, policy);
      this.#endpoint(service, policy);
    }
    policy.addStatements(statement);
  }

  /**
   * A VPC takes one S3 gateway endpoint per route table and one private-DNS interface endpoint per
   * service (VPC guide: endpoint routes and private DNS): a second network in the same VPC and
   * stack creating the same endpoint would fail the deployment, so synth refuses it.
   */
  #claimEndpoint(service: EndpointService) {
    const stack = Stack.of(this);
    const claims = ENDPOINT_CLAIMS.get(stack) ?? new Map<string, string>();
    ENDPOINT_CLAIMS.set(stack, claims);
    const key = `${this.vpc.vpcId} ${service}`;
    const owner = claims.get(key);
    if (owner !== undefined && owner !== this.node.path) {
      throw new ConstructPropsError(
        'vpcReachesAwsServices',
        `${owner.replace(/\/Network$/, '')} and ${this.node.path.replace(/\/Network$/, '')} would both create the ${service} VPC endpoint in VPC ${stack.resolve(this.vpc.vpcId) as string}, and a VPC takes only one (a second fails to deploy). Create the endpoints once yourself (policies allowing both consumers' resources, HTTPS from both security groups) and set vpcReachesAwsServices: true on both consumers.`,
      );
    }
    claims.set(key, this.node.path);
  }

  #endpoint(service: EndpointService, policy: iam.PolicyDocument) {
    const subnets = this.vpc.selectSubnets(this.vpcSubnets).subnets;
    const routeTableIds = subnets.map((s) => s.routeTable?.routeTableId);
    const gateway = GATEWAY_SERVICES[service];
    if (gateway && routeTableIds.every(Boolean)) {
      // A gateway endpoint is a route: it needs the subnets' route tables.
      new ec2.CfnVPCEndpoint(this, `${gateway}Endpoint`, {
        vpcId: this.vpc.vpcId,
        serviceName: `com.amazonaws.${Stack.of(this).region}.${service}`,
        vpcEndpointType: 'Gateway',
        routeTableIds: [...new Set(routeTableIds as string[])],
        policyDocument: policy,
      });
      // VPC guide, "Gateway endpoints for Amazon S3" and "… for Amazon DynamoDB" (Considerations):
      // the security groups must allow traffic to the service, by its prefix list.
      this.#createdGroup?.addEgressRule(
        ec2.Peer.prefixList(this.#prefixListId(service, gateway)),
        ec2.Port.HTTPS,
        `${service === 's3' ? 'Amazon S3' : 'Amazon DynamoDB'} through the gateway endpoint`,
      );
      return;
    }
    // Subnets imported without route tables: S3 or DynamoDB through an interface endpoint instead. Built from
    // the L1 resource because the L2 one reads each subnet's availability zone, which an offline
    // import does not know.
    const [name, aws] = INTERFACE_SERVICES[service];
    const sdkVariable = NO_PRIVATE_DNS[service];
    const endpoint = new ec2.CfnVPCEndpoint(this, `${name}Endpoint`, {
      vpcId: this.vpc.vpcId,
      serviceName: aws.name,
      vpcEndpointType: 'Interface',
      subnetIds: onePerZone(subnets).map((s) => s.subnetId),
      securityGroupIds: [this.#interfaceEndpointGroup().securityGroupId],
      privateDnsEnabled: !sdkVariable,
      policyDocument: policy,
      // Private DNS for S3 everywhere: "inbound resolver only" assumes a gateway endpoint, which these subnets cannot have.
      ...(gateway && !sdkVariable ? { dnsOptions: { privateDnsOnlyForInboundResolverEndpoint: 'AllResolvers' } } : {}),
    });
    // DnsEntries are `<hosted zone>:<name>`, the regional name first (CloudFormation, AWS::EC2::VPCEndpoint return values).
    if (sdkVariable) this.#sdkEndpoints[sdkVariable] = `https://${Fn.select(1, Fn.split(':', Fn.select(0, endpoint.attrDnsEntries)))}`;
  }

  /** The interface endpoints' group, made with the first of them: HTTPS from `securityGroup`. */
  #interfaceEndpointGroup(): ec2.SecurityGroup {
    if (!this.#endpointGroup) {
      this.#endpointGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        allowAllOutbound: false,
        description: 'VPC endpoints of the Kafka consumer: HTTPS from its security group',
      });
      this.#endpointGroup.addIngressRule(this.securityGroup, ec2.Port.HTTPS, 'Kafka consumer and replay');
      this.#createdGroup?.addEgressRule(this.#endpointGroup, ec2.Port.HTTPS, 'VPC endpoints');
    }
    return this.#endpointGroup;
  }

  /**
   * The id of the region's AWS-managed prefix list of a gateway service (`com.amazonaws.<region>.s3`,
   * `….dynamodb`), looked up at deploy: its id differs by region and synth stays offline.
   */
  #prefixListId(service: EndpointService, name: string): string {
    const lookup = new cr.AwsCustomResource(this, `${name}PrefixList`, {
      onUpdate: {
        service: 'EC2',
        action: 'describeManagedPrefixLists',
        parameters: { Filters: [{ Name: 'prefix-list-name', Values: [`com.amazonaws.${Stack.of(this).region}.${service}`] }] },
        physicalResourceId: cr.PhysicalResourceId.of(`${Stack.of(this).region}-${service}-prefix-list`),
        outputPaths: ['PrefixLists.0.PrefixListId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: cr.AwsCustomResourcePolicy.ANY_RESOURCE }),
      installLatestAwsSdk: false,
    });
    acknowledgePrefixListLookup(lookup);
    return lookup.getResponseField('PrefixLists.0.PrefixListId');
  }
}

/**
 * An interface endpoint takes at most one subnet per availability zone (aws-cdk-lib
 * `InterfaceVpcEndpointProps.subnets`: "At most one per availability zone"; CloudFormation
 * refuses more), while a VPC with several private tiers has several per zone. Subnets imported
 * by id alone have no known zone: they are kept as given (the README asks for one per zone).
 */
function onePerZone(subnets: ec2.ISubnet[]): ec2.ISubnet[] {
  const zones = new Set<string>();
  return subnets.filter((subnet) => {
    const zone = knownZone(subnet);
    if (zone === undefined) return true;
    if (zones.has(zone)) return false;
    zones.add(zone);
    return true;
  });
}

/** The subnet's zone (a token in an environment-agnostic stack: the same token for the same zone). */
function knownZone(subnet: ec2.ISubnet): string | undefined {
  try {
    return subnet.availabilityZone; // throws for a subnet imported without its zone
  } catch {
    return undefined;
  }
}

const INTERFACE_SERVICES: Record<EndpointService, [string, ec2.InterfaceVpcEndpointAwsService]> = {
  sqs: ['Sqs', ec2.InterfaceVpcEndpointAwsService.SQS],
  sns: ['Sns', ec2.InterfaceVpcEndpointAwsService.SNS],
  s3: ['S3', ec2.InterfaceVpcEndpointAwsService.S3],
  dynamodb: ['DynamoDb', ec2.InterfaceVpcEndpointAwsService.DYNAMODB],
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
