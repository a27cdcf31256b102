// Shared settings and arbitraries for the fast-check properties (test/unit/properties).
import fc from 'fast-check';

/**
 * `npm test`: a fixed seed and 200 runs a property, the same cases every time. `npm run
 * test:fuzz` (FUZZ_RUNS=<n>): n runs from a fresh seed, which fast-check prints with a failure
 * so that the case can be replayed (`FUZZ_SEED=<seed>`).
 */
export function propertyRuns(): fc.Parameters<unknown> {
  const runs = Number(process.env.FUZZ_RUNS);
  if (!(runs > 0)) return { seed: 28, numRuns: 200 };
  const seed = Number(process.env.FUZZ_SEED);
  return { numRuns: runs, ...(Number.isInteger(seed) ? { seed } : {}) };
}

/** Any UTF-16 code unit: lone surrogates, U+FFFE, U+FFFF and control characters included. */
export const anyText = (maxLength = 24) =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });

/** Header names, with the ones an object would confuse with its prototype's. */
export const headerName = fc.oneof(
  anyText(12),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x-dlq-replay-count'),
);

export const bytes = (maxLength = 64) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));

/** What user code can throw, the odd values included. */
export const thrownValue = fc.oneof(
  fc.anything(),
  fc
    .record({ name: fc.anything(), message: fc.oneof(anyText(64), fc.anything()) })
    .map(({ name, message }) => Object.assign(new Error(), { name, message })),
  anyText(64).map((m) => new TypeError(m)),
  fc.constant(Object.create(null) as object),
  fc.constant(
    Object.defineProperty(new Error('x'), 'message', {
      get: () => {
        throw new Error('getter');
      },
    }),
  ),
  fc.constant(
    new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
        getPrototypeOf: () => {
          throw new Error('trap');
        },
      },
    ),
  ),
);
