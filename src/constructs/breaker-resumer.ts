// The outage breaker's AWS side: the resumer function EventBridge runs every minute (it
// re-enables a consumer's paused mappings after their cool-down and publishes MappingPaused), and
// the Lambda calls both the consumer and the resumer may make, on the consumer's own mappings only.
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { bundlingOptions, nodeOptions, packagedHandlerEntry } from './bundling.js';
import { acknowledgeListEventSourceMappings } from './cdk-nag-acknowledgements.js';
import type { CheckedBreaker } from './breaker-validation.js';
import { BREAKER_ACTIONS, ENV } from '../contract/index.js';

/** How often the resumer looks at the mappings: the grain of every cool-down, and of the paused alarm's data. */
export const RESUMER_SCHEDULE = Duration.minutes(1);

/** The one breaker action that takes no resource (Lambda guide, "Fine-tuning the Resources and Conditions sections of policies"). */
const LIST_MAPPINGS = 'lambda:ListEventSourceMappings';

/** The consumer whose mappings the breaker pauses, as the resumer needs it. */
export interface BreakerResumerProps {
  /** The consumer function: the resumer lists its mappings by its name. */
  readonly consumerFunction: lambda.Function;
  /** The consumer's mappings' ids (CloudFormation `Ref`, the UUID). */
  readonly mappingIds: readonly string[];
  readonly breaker: CheckedBreaker;
  /** The consumer's metrics namespace and service: the resumer's metrics join the consumer's. */
  readonly metricsNamespace: string;
  readonly serviceName: string;
}

/**
 * The resumer and its schedule, and the breaker's grants to both functions. The consumer's grant
 * is a policy of its own, attached to the consumer's role: it names the mappings, which are created
 * after the function, so the function (which waits for its role's default policy) must not wait
 * for it.
 */
export class BreakerResumer extends Construct {
  /** The resumer: `{"breaker": "status" | "open" | "close", "topic"?: string}` forces or reports. */
  readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: BreakerResumerProps) {
    super(scope, id);
    const { consumerFunction } = props;
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: packagedHandlerEntry('breaker/resumer', 'breaker resumer handler'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // A few Lambda API calls per mapping; done before the next look, a minute later.
      timeout: Duration.seconds(50),
      // A look that failed or waited is superseded by the next one: no retries, no queued looks.
      retryAttempts: 0,
      maxEventAge: RESUMER_SCHEDULE,
      bundling: bundlingOptions(),
      environment: {
        [ENV.breakerFunctionName]: consumerFunction.functionName,
        ...breakerEnvironment(props.breaker),
        [ENV.serviceName]: props.serviceName,
        [ENV.metricsNamespace]: props.metricsNamespace,
        ...nodeOptions(),
      },
    });
    new events.Rule(this, 'Schedule', {
      description: "Runs the outage breaker's resumer: re-enables paused mappings after their cool-down.",
      schedule: events.Schedule.rate(RESUMER_SCHEDULE),
      targets: [new targets.LambdaFunction(this.function)],
    });

    const statements = breakerStatements(Stack.of(this), props.mappingIds);
    for (const statement of statements) this.function.addToRolePolicy(statement);
    acknowledgeListEventSourceMappings(this.function);
    const consumerGrant = new iam.Policy(this, 'ConsumerPolicy', { statements });
    consumerGrant.attachToRole(consumerFunction.role!);
    acknowledgeListEventSourceMappings(consumerGrant);
  }
}

/** The cool-downs, as the consumer and the resumer read them. */
export function breakerEnvironment(breaker: CheckedBreaker): Record<string, string> {
  return {
    [ENV.breakerCoolDownSeconds]: String(breaker.coolDown.toSeconds()),
    [ENV.breakerMaxCoolDownSeconds]: String(breaker.maxCoolDown.toSeconds()),
  };
}

/**
 * BREAKER_ACTIONS: listing the mappings takes `*`; the others act on the mappings named
 * (`arn:<partition>:lambda:<region>:<account>:event-source-mapping:<UUID>`).
 */
function breakerStatements(stack: Stack, mappingIds: readonly string[]): iam.PolicyStatement[] {
  const mappingArns = mappingIds.map((uuid) =>
    stack.formatArn({ service: 'lambda', resource: 'event-source-mapping', resourceName: uuid, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
  );
  return [
    new iam.PolicyStatement({ actions: [LIST_MAPPINGS], resources: ['*'] }),
    new iam.PolicyStatement({ actions: BREAKER_ACTIONS.filter((action) => action !== LIST_MAPPINGS), resources: mappingArns }),
  ];
}
