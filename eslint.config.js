import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.cache/', 'bench/.out/', 'bench/results.json', '.stryker-tmp/', 'reports/', 'dist/', 'docs/api/'] },
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
);
