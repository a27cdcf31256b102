import { describe, expect, it } from 'vitest';
import { LOCAL_ENV, localInvoker } from '../../../src/cli/local-target.js';

describe('--local', () => {
  it('names what `npm run services` prints and is not set, before loading anything', async () => {
    expect(LOCAL_ENV).toEqual(['KAFKA_BROKERS', 'REPLAY_ALLOWED_TOPICS', 'AWS_ENDPOINT_URL']);
    await expect(localInvoker({ KAFKA_BROKERS: 'localhost:9092', REPLAY_ALLOWED_TOPICS: 'orders' }, 60)).rejects.toThrow(
      '--local replays against the services `npm run services` started, and AWS_ENDPOINT_URL, DLQ_URL are not set: start it and export the NAME=value lines it prints in this shell.',
    );
    await expect(
      localInvoker({ KAFKA_BROKERS: 'b', REPLAY_ALLOWED_TOPICS: 'o', AWS_ENDPOINT_URL: 'http://localhost:1', DLQ_URL: 'q' }, 60, 's3'),
    ).rejects.toThrow('and ON_FAILURE_BUCKET is not set');
    await expect(
      localInvoker({ KAFKA_BROKERS: 'b', REPLAY_ALLOWED_TOPICS: 'o', AWS_ENDPOINT_URL: 'http://localhost:1' }, 60),
    ).rejects.toThrow('and DLQ_URL is not set');
  });
});
