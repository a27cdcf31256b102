import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../../src/cli/exit-codes.js';
import type { LocalAction } from '../../../../src/cli/local-command-line.js';
import { runSettings } from '../../../../local/commands/run.js';

type RunAction = Extract<LocalAction, { name: 'run' }>;
const action = (settings: RunAction['settings']): RunAction => ({
  name: 'run',
  handler: { file: 'h.ts', exportName: 'handler' },
  settings,
  cdkJson: 'cdk.json',
  partitions: 6,
  idempotency: false,
  timeoutSeconds: 60,
});
// cdk.json's context as the repository's app reads it (JSON values, or -c strings).
const context = {
  topics: 'payments',
  consumerGroupId: 'payments-consumer',
  batchSize: 100,
  startingPosition: 'TRIM_HORIZON',
  bisectBatchOnError: 'true',
};

describe('local run: the mapping settings', () => {
  it("are cdk.json's context keys, the app's, with the flags over them", () => {
    expect(runSettings(action({ batchSize: 5, startingPosition: 'LATEST' }), context, {})).toEqual({
      topics: ['payments'],
      consumerGroupId: 'payments-consumer',
      batchSize: 5,
      startingPosition: 'LATEST',
      bisectBatchOnError: true,
    });
  });

  it('take the topic from --topic, else the context, else KAFKA_TOPIC; several in the context need --topic', () => {
    expect(runSettings(action({ topic: 'other' }), context, {}).topics).toEqual(['other']);
    expect(runSettings(action({}), {}, { KAFKA_TOPIC: 'env-topic' }).topics).toEqual(['env-topic']);
    expect(() => runSettings(action({}), { topics: 'a,b' }, {})).toThrow(
      expect.objectContaining({
        exitCode: EXIT.usage,
        message: expect.stringContaining('several topics (a, b): give the one to consume with --topic'),
      }),
    );
    expect(() => runSettings(action({}), {}, {})).toThrow(
      expect.objectContaining({ exitCode: EXIT.usage, message: expect.stringMatching(/^which topic\?/) }),
    );
  });
});
