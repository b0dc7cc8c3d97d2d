import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Every test file starts its own servers on port 0; two cores run two files at a time.
    pool: 'forks',
  },
})
