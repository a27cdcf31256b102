import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * The layers, each with the folders it may import from (besides its own). A layer never
 * imports one above it: the contract is shared by everything; the Kafka client, the mapping's
 * rules and the handler runtime sit on it; the replay function and the constructs on those;
 * the repository's app on the constructs; the local tools, benchmarks and tests on anything.
 * docs/architecture.md draws this table.
 */
export const LAYERS = {
  'src/contract': [],
  'src/kafka': ['src/contract'],
  'src/mapping': ['src/contract'],
  // The outage breaker and the runtime meet both ways, file by file without a cycle: the runtime's
  // outage handling reads the breaker's state machine and opens it (src/runtime/breaker-trip.ts,
  // imported lazily); the breaker's Lambda calls use the runtime's AWS clients and retry policy.
  'src/runtime': ['src/contract', 'src/breaker'],
  'src/breaker': ['src/contract', 'src/runtime'],
  'src/replay': ['src/contract', 'src/kafka', 'src/runtime'],
  'src/constructs': ['src/contract', 'src/mapping', 'src/runtime', 'src/breaker'],
  // The command-line tool: --local loads the replay handler by a path computed at run time (src/cli/local-target.ts).
  'src/cli': ['src/contract'],
  app: ['src/contract', 'src/mapping', 'src/constructs', 'src/runtime'],
  // The local tools are also the `local` commands of the command-line tool, which loads them by path (src/cli/local-tools.ts).
  local: ['src/contract', 'src/kafka', 'src/mapping', 'src/runtime', 'src/breaker', 'src/replay', 'src/constructs', 'src/cli', 'app'],
  bench: [
    'src/contract',
    'src/kafka',
    'src/mapping',
    'src/runtime',
    'src/breaker',
    'src/replay',
    'src/constructs',
    'src/cli',
    'app',
    'local',
  ],
};
const FOLDERS = [...Object.keys(LAYERS), 'test'];
const layerZones = Object.entries(LAYERS).map(([target, allowed]) => ({
  target: `./${target}`,
  from: FOLDERS.filter((folder) => folder !== target && !allowed.includes(folder)).map((folder) => `./${folder}`),
  message: `${target} may import only from ${allowed.join(', ') || 'itself'} (the layers in eslint.config.js).`,
}));

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      '.cache/',
      'bench/.out/',
      'bench/results.json',
      '.stryker-tmp/',
      'reports/',
      'dist/',
      'docs/api/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The bench probes: plain JavaScript for Node (no loader in the processes they measure).
  { files: ['bench/probes/*.mjs'], languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', performance: 'readonly' } } },
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })] },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
      // One import style: relative imports name the emitted file (`./record.js`), as Node's ESM needs.
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\.?/(?!.*\\.(js|json|mjs|cjs)$)', message: 'Name the emitted file: `./record.js` for record.ts.' }] },
      ],
      'import-x/no-unresolved': 'error',
    },
  },
);
