// `entry` is the user's handler: required by the published KafkaConsumer, checked at synth;
// only this repository's KafkaConsumersStack falls back to the example consumer.
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { KafkaConsumer } from '../../src/constructs/kafka-consumer.js';
import type { KafkaConsumerProps } from '../../src/constructs/kafka-consumer-props.js';
import { EXAMPLE_CONSUMER_ENTRY, KafkaConsumersStack } from '../../app/kafka-consumers-stack.js';
import { ConstructPropsError } from '../../src/constructs/errors.js';
import { base } from './deploy-contract/support.js';

const unbundled = () => new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'User');

describe('KafkaConsumer entry', () => {
  it('is required: synth names it and how to give it', () => {
    const { entry: _omitted, ...withoutEntry } = base;
    expect(() => new KafkaConsumer(unbundled(), 'Consumer', withoutEntry as KafkaConsumerProps)).toThrow(
      new ConstructPropsError(
        'entry',
        "entry is not set: give the path of your handler file (written with kafkaConsumer()), for example fileURLToPath(new URL('./handler.ts', import.meta.url)).",
      ),
    );
  });

  it('must name an existing file', () => {
    expect(() => new KafkaConsumer(unbundled(), 'Consumer', { ...base, entry: '/nowhere/handler.ts' })).toThrow(
      /entry is "\/nowhere\/handler\.ts", which does not exist/,
    );
  });

  it("defaults to the example consumer only in this repository's stack", () => {
    const { entry: _omitted, ...withoutEntry } = base;
    // Without the default, the consumer's own check above would throw.
    expect(
      () => new KafkaConsumersStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Repo', { consumer: withoutEntry }),
    ).not.toThrow();
    expect(EXAMPLE_CONSUMER_ENTRY).toMatch(/app\/consumer\/index\.ts$/);
  });
});
