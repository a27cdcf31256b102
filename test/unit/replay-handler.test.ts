import { afterEach, describe, expect, it, vi } from 'vitest';
import { handler } from '../../functions/replay/index';
import { lambdaContext } from '../../local/esm/lambda-context';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('replay handler', () => {
  it('fails with a ConfigurationError naming DLQ_URL when it is not set', async () => {
    vi.stubEnv('DLQ_URL', '');
    vi.stubEnv('KAFKA_BROKERS', ''); // a connect attempt would fail with a KAFKA_BROKERS error instead
    vi.spyOn(process.stdout, 'write').mockReturnValue(true); // the ReplayErrors metric line
    await expect(handler({ dryRun: true }, lambdaContext(60_000, 'replay'))).rejects.toMatchObject({
      name: 'ConfigurationError',
      message: 'DLQ_URL is not set: the replay function reads the dead-letter queue it names.',
    });
  });
});
