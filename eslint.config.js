// Lint rules for mailops. `npm test` runs them (`npm run lint` alone), after `tsc --noEmit` and before the tests.
//
// Which TypeScript reads the types: mailops type-checks with TypeScript 7 (`tsc`, the native compiler), which has no
// JavaScript compiler API, and typescript-eslint's type-aware rules need that API (its releases accept typescript
// >=4.8.4 <6.1.0). So package.json follows TypeScript 7's own advice for running side by side with 6.0: the package
// name `typescript` is the @typescript/typescript6 compatibility package (the 6.0 API, for typescript-eslint), and
// `tsc` comes from TypeScript 7 installed as @typescript/native. `tsc` alone decides what compiles; the linter only
// reads types through 6.0. When typescript-eslint supports TypeScript 7, make `typescript` TypeScript 7 again.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['node_modules/', 'data/', 'coverage/', '.lab-cache/'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // The JavaScript files (this one, bin/mailops.js) are outside tsconfig.json, which holds the TypeScript only.
        projectService: { allowDefaultProject: ['*.js', 'bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })] },
    rules: {
      // Named so that they stay on whatever the presets above become: a promise nobody awaits loses its error.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Imports as the code has them: node: built-ins, then packages, then ../ and ./, each by path, no blank lines.
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', 'parent', 'sibling', 'index'],
          'newlines-between': 'never',
          alphabetize: { order: 'asc', caseInsensitive: true },
        },
      ],
      // One import per module; a type joins the value import inline (`import { x, type Y }`), as the code writes it.
      'import-x/no-duplicates': ['error', { 'prefer-inline': true }],

      // `_name` in a destructuring names what is left out of the rest (`const { ok: _given, ...rest } = result`).
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // Promise.all over a list where some entries are at hand and others still load is fine as it is.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],

      // Rules that fight the code's deliberate style, each with why:
      // An async method without await still turns a throw into a rejection, as its Promise-returning interface says.
      '@typescript-eslint/require-await': 'off',
      // Records keyed by name (environment variables, JSON payloads) lose an entry by its key on purpose.
      '@typescript-eslint/no-dynamic-delete': 'off',
      // Messages interpolate numbers and optional parts on purpose ("19.4 days left"); keep the recommended options.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowAny: true, allowBoolean: true, allowNullish: true, allowNumber: true, allowRegExp: true },
      ],
      // `() => resolve()` and `(error) => reject(error)` are how the code writes callbacks that return nothing.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Defensive checks are deliberate where types promise more than runtime keeps: data from hosts, DNS, TLS and
      // libraries, and test fixtures that afterAll() must stop even when beforeAll() failed half way.
      '@typescript-eslint/no-unnecessary-condition': 'off',
      // `!` marks a value the line before has just checked or that noUncheckedIndexedAccess cannot see is there.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['test/**', '**/*.test.ts'],
    rules: {
      // Tests read the CLI's --json output (JSON.parse) and vitest's asymmetric matchers (expect.any(String),
      // expect.stringContaining) as `any`, and hand them straight to expect(): the assertion is the type check.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Validation refuses control characters, so its patterns name them.
    files: ['src/validation/**'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: globals.node },
  }
);
