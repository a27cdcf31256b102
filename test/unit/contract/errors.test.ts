// Every error the library defines is a KafkaConsumersError, so callers can catch them as a
// family, and each keeps what it wraps in `cause`; each layer's errors are in one module, and
// nothing under src/ throws a plain Error.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as runtime from '../../../src/runtime/index.js';
import * as runtimeErrors from '../../../src/runtime/errors.js';
import * as replayErrors from '../../../src/replay/errors.js';
import * as kafkaErrors from '../../../src/kafka/errors.js';
import * as contractErrors from '../../../src/contract/errors.js';
import { ReplayRequestError } from '../../../src/replay/errors.js';
import * as mappingErrors from '../../../src/mapping/errors.js';
import * as constructErrors from '../../../src/constructs/errors.js';
import * as breakerErrors from '../../../src/breaker/errors.js';
import { FilterPatternError, MappingSettingsError } from '../../../src/mapping/errors.js';

// Classes only (capitalised): `isOutageError` is a function.
const publicRuntimeErrors = Object.entries(runtime).filter(([name]) => /^[A-Z]\w*Error$/.test(name) && name !== 'KafkaConsumersError');

describe('KafkaConsumersError', () => {
  it.each([
    ...publicRuntimeErrors,
    ['ReplayRequestError', ReplayRequestError],
    ['MappingSettingsError', MappingSettingsError],
    ['FilterPatternError', FilterPatternError],
  ])('is the base of %s, which keeps its name and cause', (name, ErrorClass) => {
    const cause = new Error('underlying');
    const error = new (ErrorClass as new (message: string, options?: ErrorOptions) => Error)('what went wrong', { cause });
    expect(error).toBeInstanceOf(runtime.KafkaConsumersError);
    expect(error).toMatchObject({ name, message: 'what went wrong', cause });
  });

  it('covers every error class the runtime exports', () => {
    expect(publicRuntimeErrors.map(([name]) => name).sort()).toEqual([
      'ConfigurationError',
      'DeserializationError',
      'IdempotencyKeyError',
      'InvalidEventError',
      'MalformedDeadLetterError',
      'NonRetryableError',
      'WholeBatchRetryError',
    ]);
  });

  // A layer's errors module holds its error family: every class in it is one of the family.
  it.each([
    ['contract', contractErrors, 2],
    ['runtime', runtimeErrors, 9],
    ['replay', replayErrors, 3],
    ['kafka', kafkaErrors, 2],
    ['mapping', mappingErrors, 2],
    ['constructs', constructErrors, 4],
    ['breaker', breakerErrors, 2],
  ])('is the base of every class in src/%s/errors.ts', (_layer, module, count) => {
    const classes = Object.values(module).filter(
      (value): value is abstract new (...args: never[]) => unknown => typeof value === 'function' && /^class\b/.test(value.toString()),
    );
    expect(classes).toHaveLength(count);
    for (const ErrorClass of classes)
      expect(ErrorClass === runtime.KafkaConsumersError || ErrorClass.prototype instanceof runtime.KafkaConsumersError).toBe(true);
  });
});

/** Every TypeScript file under `dir`, its path relative to the repository. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(process.cwd(), join(entry.parentPath, entry.name)));
}

/** A line of the helper Stryker puts at the top of the copy of a file it mutates (a mutation run's sandbox). */
const isStrykerHelper = (line: string) => line.includes("'Stryker: Hit count limit reached (");

describe('the source', () => {
  // The README promises that every error extends KafkaConsumersError: a plain Error cannot be
  // caught as one of the family, and carries its facts in text only.
  it('throws no plain Error, in any layer', () => {
    const files = sources('src');
    expect(files).toContain('src/runtime/wire-format.ts');
    const plain = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          /\b(?:new|throw)\s+Error\s*\(/.test(line) && !isStrykerHelper(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(plain).toEqual([]);
  });
});
