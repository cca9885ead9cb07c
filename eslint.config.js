// ESLint flat config: typescript-eslint's recommended rules; formatting is prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'oclif.manifest.json', 'test/fixtures/', 'examples/**/*.wasm'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        fetch: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-control-regex': 'off',
    },
  },
  {
    // Domain code is reusable by the daemon: no CLI framework, no terminal UI outside src/lib/cli (issue 11).
    files: ['src/lib/**/*.ts', 'src/lib/**/*.tsx'],
    ignores: ['src/lib/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@oclif/core', message: 'CLI-only: put it under src/lib/cli/.' },
            { name: 'ink', message: 'CLI-only: put it under src/lib/cli/.' },
            { name: 'react', message: 'CLI-only: put it under src/lib/cli/.' },
          ],
          patterns: [
            { group: ['@oclif/*', 'ink-*', 'react/*'], message: 'CLI-only: put it under src/lib/cli/.' },
            { group: ['**/cli/index.js', '../cli/*', '../../cli/*'], message: 'src/lib/cli is for commands only.' },
          ],
        },
      ],
    },
  },
  {
    // Commands import each domain through its index.ts (the registry client has its own, loaded on demand), and
    // their own handler in src/lib/cli/handlers (one module per command, which the start-up fast path loads alone).
    files: ['src/commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '/lib/[a-z-]+/(?!index\\.js$)(?!registry/index\\.js$)(?!handlers/[a-z-]+\\.js$)',
              message: 'import from the domain index (src/lib/<domain>/index.ts).',
            },
          ],
        },
      ],
    },
  },
);
