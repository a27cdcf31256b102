import { readdirSync } from 'node:fs';
import kafkajs from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { KAFKAJS_PATCHES, appliedKafkajsPatches, assertKafkajsPatched } from '../../../src/kafka/kafkajs-patches.js';
import { KafkajsNotPatchedError } from '../../../src/kafka/errors.js';
import { KafkaConsumersError } from '../../../src/contract/errors.js';
import { createKafka } from '../../../src/kafka/kafka-connection.js';

// The installed kafkajs's list of applied patches (kafkajs/index.js, written by the patches).
const installed = (kafkajs as unknown as { appliedPatches: string[] }).appliedPatches;
const asInstalled = [...installed];
afterEach(() => {
  installed.splice(0, installed.length, ...asInstalled);
});

describe('the kafkajs patch check', () => {
  it('knows every patch in patches/, in order, and finds them all applied in the installed kafkajs', () => {
    const files = readdirSync(new URL('../../../patches/', import.meta.url)).filter((f) => f.endsWith('.patch'));
    expect(files.map((f) => f.replace(/^kafkajs\+2\.2\.4\+(.*)\.patch$/, '$1'))).toEqual([...KAFKAJS_PATCHES]);
    expect(appliedKafkajsPatches()).toEqual([...KAFKAJS_PATCHES]);
    expect(() => assertKafkajsPatched()).not.toThrow();
  });

  it('names the missing patch and how to fix it', () => {
    const error = (() => {
      try {
        assertKafkajsPatched(KAFKAJS_PATCHES.filter((p) => p !== '003+undecodable-batch-fails-consumer'));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(KafkajsNotPatchedError);
    expect(error).toBeInstanceOf(KafkaConsumersError);
    expect(error).toMatchObject({
      name: 'KafkajsNotPatchedError',
      missingPatches: ['003+undecodable-batch-fails-consumer'],
      message:
        'kafkajs is missing the patch patches/kafkajs+2.2.4+003+undecodable-batch-fails-consumer.patch: run `npm install` ' +
        '(its prepare script runs patch-package --error-on-fail, which applies them or says which one fails); see patches/README.md.',
    });
  });

  it('names every patch of a kafkajs installed without them (no list at all)', () => {
    expect(() => assertKafkajsPatched([])).toThrow(expect.objectContaining({ missingPatches: [...KAFKAJS_PATCHES] }));
    expect(() => assertKafkajsPatched([])).toThrow(
      /^kafkajs is missing the patches patches\/kafkajs\+2\.2\.4\+001\+consumed-headers-in-order\.patch, .*007\+crashed-member-rejoins-as-itself\.patch: run `npm install`/,
    );
    delete (kafkajs as unknown as { appliedPatches?: string[] }).appliedPatches;
    try {
      expect(appliedKafkajsPatches()).toEqual([]);
    } finally {
      (kafkajs as unknown as { appliedPatches: string[] }).appliedPatches = installed;
    }
  });

  it('runs when the Kafka client layer creates a client: createKafka refuses a kafkajs that lacks a patch', async () => {
    installed.splice(installed.indexOf('006+stopped-consumer-stays-stopped'), 1);
    await expect(createKafka({ KAFKA_BROKERS: '127.0.0.1:9' })).rejects.toMatchObject({
      name: 'KafkajsNotPatchedError',
      missingPatches: ['006+stopped-consumer-stays-stopped'],
    });
    installed.splice(0, installed.length, ...asInstalled);
    await expect(createKafka({ KAFKA_BROKERS: '127.0.0.1:9' })).resolves.toBeDefined();
  });
});
