// src/constructs/validation.ts: each wrong prop throws the error class that fits. Mapping settings
// throw MappingSettingsError (the rules the emulator shares); any other prop ConstructPropsError,
// naming the prop; both are KafkaConsumersError.
import { App, Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { KafkaConsumer } from '../../src/constructs/kafka-consumer.js';
import type { KafkaConsumerProps } from '../../src/constructs/kafka-consumer-props.js';
import { ConstructPropsError, KafkaConsumersError, MappingSettingsError } from '../../src/constructs/errors.js';
import { base } from './deploy-contract/support.js';

const construct = (props: Partial<KafkaConsumerProps>) => () =>
  new KafkaConsumer(new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'User'), 'Consumer', { ...base, ...props });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

describe('KafkaConsumer validation', () => {
  it.each<[Partial<KafkaConsumerProps>, string]>([
    [{ memorySize: 64 }, 'memorySize'],
    [{ timeout: Duration.minutes(15) }, 'timeout'],
    [{ deadLetterRetention: Duration.days(15) }, 'deadLetterRetention'],
    [{ metricsNamespace: 'AWS/Lambda' }, 'metricsNamespace'],
    [{ environment: { DLQ_URL: 'x' } }, 'environment.DLQ_URL'],
    [{ cluster: { kind: 'self-managed', bootstrapServers: ['b:9096'] } }, 'cluster.authSecret'],
    [{ cluster: { kind: 'msk', clusterArn: 'arn:aws:kafka:us-east-1:123456789012:demo' } }, 'cluster.clusterArn'],
  ])('refuses %j with ConstructPropsError naming %s', (props, prop) => {
    const error = thrown(construct(props));
    expect(error).toBeInstanceOf(ConstructPropsError);
    expect(error).not.toBeInstanceOf(MappingSettingsError);
    expect(error).toBeInstanceOf(KafkaConsumersError);
    expect((error as ConstructPropsError).prop).toBe(prop);
    expect((error as Error).message).toContain(prop.split('.').at(-1));
  });

  it('refuses a wrong mapping setting with MappingSettingsError', () => {
    const error = thrown(construct({ batchSize: 0 }));
    expect(error).toBeInstanceOf(MappingSettingsError);
    expect(error).toBeInstanceOf(KafkaConsumersError);
  });
});
