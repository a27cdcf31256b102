// The consumer's environment: the variables the construct sets itself are refused, naming the prop to use.
import { ConstructPropsError } from './errors.js';
import { CONSUMER_ENV, ENV, type ConsumerEnvName } from '../contract/index.js';

/**
 * What each variable the runtime reads is for, and the prop that sets it (none: the construct
 * owns the resource). Typed by the runtime's list, so that a variable added there needs an entry here.
 */
const RESERVED_ENVIRONMENT: Record<ConsumerEnvName, { readonly for: string; readonly prop?: string }> = {
  [ENV.deadLetterQueueUrl]: { for: 'the dead-letter queue it creates, grants the function and alarms on' },
  [ENV.deadLetterBucket]: { for: 'the dead-letter bucket it creates and grants the function' },
  [ENV.consumerGroup]: { for: 'the consumer groups its mappings read with', prop: 'consumerGroupId' },
  [ENV.reportBatchItemFailures]: { for: 'whether its mappings honour partial batch responses', prop: 'reportBatchItemFailures' },
  [ENV.idempotencyTable]: { for: 'the idempotency ledger it creates or is given, and grants the function', prop: 'idempotency' },
  [ENV.idempotencyExpirySeconds]: {
    for: "the ledger's expiry it checks against maxRecordAge, the timeout and the dead-letter retention",
    prop: 'idempotency.expiry',
  },
  [ENV.breakerCoolDownSeconds]: { for: "the outage breaker's first cool-down, which its resumer waits out", prop: 'breaker.coolDown' },
  [ENV.breakerMaxCoolDownSeconds]: { for: "the outage breaker's longest cool-down", prop: 'breaker.maxCoolDown' },
  [ENV.failureMode]: { for: 'what its mappings are configured for (a blocking mode must never be skipped)', prop: 'failureMode' },
  [ENV.parkedKeysTable]: { for: 'the parked keys table it creates or uses, and grants the function and the replay', prop: 'failureMode' },
  [ENV.serviceName]: { for: 'the service its alarms and dashboard watch', prop: 'serviceName' },
  [ENV.metricsNamespace]: { for: 'the namespace its alarms and dashboard watch', prop: 'metricsNamespace' },
};

/** Refuses the variables the construct sets, naming the prop to use. */
export function validateEnvironment(environment: Readonly<Record<string, string>> | undefined): void {
  for (const name of CONSUMER_ENV) {
    if (environment?.[name] === undefined) continue;
    const { for: purpose, prop } = RESERVED_ENVIRONMENT[name];
    throw new ConstructPropsError(
      `environment.${name}`,
      `environment.${name} is set, but KafkaConsumer sets ${name} itself, to ${purpose}: ${prop ? `give the prop ${prop} instead` : 'leave it out'}.`,
    );
  }
}
