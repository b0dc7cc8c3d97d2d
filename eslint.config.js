// ESLint for every TypeScript file: typescript-eslint's type-checked rules
// (each file is checked with the tsconfig that owns it: ui/tsconfig.json for
// the page, tsconfig.json for the rest), eslint-plugin-lit for the elements'
// templates, and eslint-config-prettier last so that layout is Prettier's
// alone (`npm run format`).
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import lit from 'eslint-plugin-lit'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'ui/dist/', 'test-artifacts/', 'benchmarks/results/', 'lessons/public/'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
      globals: globals.node,
    },
    rules: {
      // An async function without await is how Fastify plugins and hooks are
      // written, and how a method keeps a Promise-returning interface: it turns
      // a throw into a rejection, which is what callers handle.
      '@typescript-eslint/require-await': 'off',
      // `const { note, ...rest } = row` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['ui/src/**/*.ts'],
    extends: [lit.configs['flat/recommended']],
    languageOptions: { globals: globals.browser },
  },
  // Lit binds a template's listeners (@click=${this._onClick}) to the host element.
  { files: ['ui/src/components/**/*.ts'], rules: { '@typescript-eslint/unbound-method': 'off' } },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  prettier,
)
