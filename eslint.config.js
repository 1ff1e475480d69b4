// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Blob: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^(fs|path|crypto|http|https|os|util|url|child_process|stream|events|net|zlib|assert|timers)(/.*)?$', message: 'use the node: protocol' },
          { regex: '^(\\.\\./)+(identity|tokens|audit|ratelimit|policy|gateway|detection|admin)/(?!index\\.js$).+', message: 'import another module only through its index.ts' },
        ],
      }],
    },
  },
  {
    // Layer rules: platform/ never imports a module; main.ts alone reads process.env.
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/identity/**', '**/tokens/**', '**/audit/**', '**/ratelimit/**', '**/policy/**', '**/gateway/**', '**/detection/**', '**/admin/**', '**/registry.js', '**/app.js'], message: 'platform/ must not import a module' }],
      }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'only src/main.ts reads process.env' }, { object: 'process', property: 'argv', message: 'only src/main.ts reads process.argv' }],
    },
  },
);
