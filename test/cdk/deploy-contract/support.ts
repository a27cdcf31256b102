// Synthesizing the stack under test: shared by the CDK tests.
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_CONSUMER_ENTRY, KafkaConsumersStack, type KafkaConsumersStackProps } from '../../../app/kafka-consumers-stack.js';
import type { KafkaConsumerProps } from '../../../src/constructs/kafka-consumer-props.js';

export const CLUSTER = 'arn:aws:kafka:us-east-1:123456789012:cluster/demo/abcd-1234';
export const base: KafkaConsumerProps = {
  entry: EXAMPLE_CONSUMER_ENTRY,
  cluster: { kind: 'msk', clusterArn: CLUSTER, bootstrapServers: ['b-1:9098'] },
  topics: ['orders'],
  consumerGroupId: 'orders-group',
};

/**
 * aws-cdk-lib checks every template against CloudFormation's resource schemas (patterns, lengths,
 * item counts) at synth and reports what CloudFormation would refuse as warnings; this flag makes
 * them errors, so that a template these tests accept is one CloudFormation takes.
 */
export const CLOUDFORMATION_SCHEMAS = { '@aws-cdk/core:validateAgainstDefaultRules': true } as const;

/**
 * A KafkaConsumersStack with `base` props overridden, in an app of its own, checked against
 * CloudFormation's schemas. Functions are not bundled (esbuild costs a second a stack) unless `bundle` is set.
 */
export function synthStack(consumer: Partial<KafkaConsumerProps> = {}, stack: Partial<KafkaConsumersStackProps> = {}, bundle = false) {
  const app = new App({ context: { ...CLOUDFORMATION_SCHEMAS, ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) } });
  const s = new KafkaConsumersStack(app, 'Test', { consumer: { ...base, ...consumer }, ...stack });
  return { app, stack: s, template: Template.fromStack(s) };
}

export function synth(consumer: Partial<KafkaConsumerProps> = {}, stack: Partial<KafkaConsumersStackProps> = {}): Template {
  return synthStack(consumer, stack).template;
}

/** The resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, unknown> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>;
}
