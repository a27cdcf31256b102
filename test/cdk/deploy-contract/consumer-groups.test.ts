// Kafka mappings' consumer groups: AWS rules, with where they are documented.
import { describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { mappingConsumerGroupId } from '../../../src/runtime/consumer-group.js';
import { synth as synthStack } from './support.js';

const synth = (topics: string[], consumerGroupId: string) => synthStack({ topics, consumerGroupId });
const groupIds = (t: Template) =>
  Object.values(t.findResources('AWS::Lambda::EventSourceMapping')).map(
    (m) => m.Properties.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId as string,
  );

describe('consumer groups (deploy contract)', () => {
  // CloudFormation, AWS::Lambda::EventSourceMapping AmazonManagedKafkaEventSourceConfig /
  // SelfManagedKafkaEventSourceConfig, ConsumerGroupId: unique among all Kafka event sources,
  // 1–200 characters, pattern [a-zA-Z0-9-\/*:_+=.@-]*.
  // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-eventsourcemapping-amazonmanagedkafkaeventsourceconfig.html
  it("gives each topic's mapping its own group, derived from consumerGroupId and the topic", () => {
    const t = synth(['orders', 'payments'], 'orders-consumer');
    expect(groupIds(t)).toEqual(['orders-consumer-orders', 'orders-consumer-payments']);
  });

  it('keeps a derived group id within 200 allowed characters, unique and stable', () => {
    const id = 'g'.repeat(200);
    const a = mappingConsumerGroupId(id, 'orders');
    const b = mappingConsumerGroupId(id, 'payments');
    for (const g of [a, b]) expect(g).toMatch(/^[a-zA-Z0-9\-/*:_+=.@-]{1,200}$/);
    expect(a).not.toBe(b);
    expect(mappingConsumerGroupId(id, 'orders')).toBe(a);
    expect(groupIds(synth(['orders', 'payments'], id))).toEqual([a, b]);
  });

  // MSK developer guide, IAM access control: group actions are authorized on
  // arn:aws:kafka:<region>:<account>:group/<cluster>/<uuid>/<group>.
  it('grants the group actions on exactly those groups', () => {
    const t = synth(['orders', 'payments'], 'orders-consumer');
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>,
    );
    const group = statements.find((s) => JSON.stringify(s.Action).includes('kafka-cluster:AlterGroup'))!;
    expect(group.Resource).toEqual([
      'arn:aws:kafka:us-east-1:123456789012:group/demo/abcd-1234/orders-consumer-orders',
      'arn:aws:kafka:us-east-1:123456789012:group/demo/abcd-1234/orders-consumer-payments',
    ]);
  });
});
