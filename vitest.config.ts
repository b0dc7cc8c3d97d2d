import { defineConfig } from 'vitest/config'

// What runs in Chromium or under tcpdump, or runs the lessons end to end.
const E2E = [
  'test/ui/workbench.test.ts',
  'test/ui/restart.test.ts',
  'test/ui/join.test.ts',
  'test/ui/workbench-rows.test.ts',
  'test/ui/burst.test.ts',
  'test/ui/network.test.ts',
  'test/ui/frame-view.test.ts',
  'test/ui/raw-composer.test.ts',
  'test/ui/instructor.test.ts',
  'test/ui/class-code.test.ts',
  'test/ui/foreign-origin.test.ts',
  'test/ui/send-status.test.ts',
  'test/ui/tabs.test.ts',
  'test/ui/bench-view.test.ts',
  'test/ui/lessons.test.ts',
  'test/ui/viewports.test.ts',
  'test/ui/accessibility.test.ts',
  'test/ui/inspector-token.test.ts',
  'test/transports/class-notes-page.test.ts',
  'test/transports/sse-browser.test.ts',
  'test/wire/capture.test.ts',
  'test/lessons/lessons.test.ts',
  'test/auth/browser.test.ts',
]
const BENCH = ['test/benchmarks/**/*.test.ts']
// Pure logic and in-process checks: seconds, no servers of their own to wait for.
const UNIT = [
  'test/core/**/*.test.ts',
  'test/docs/**/*.test.ts',
  'test/wire/ws-frames.test.ts',
  'test/wire/redact.test.ts',
  'test/ui/inspect.test.ts',
  'test/ui/chart-data.test.ts',
  'test/ui/wire-store.test.ts',
  'test/ui/latency.test.ts',
  'test/ui/panel-rows.test.ts',
  'test/ui/route.test.ts',
  'test/ui/invitation.test.ts',
  'test/server/config.test.ts',
  'test/auth/origins.test.ts',
  'test/auth/tokens.test.ts',
]

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Every test file starts its own servers on port 0; two cores run two files at a time.
    pool: 'forks',
    // `npm test` runs every project; `npm run test:unit|test:integration|test:e2e|test:bench` one of them.
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/**/*.test.ts'], exclude: [...UNIT, ...E2E, ...BENCH] },
      },
      { extends: true, test: { name: 'e2e', include: E2E } },
      { extends: true, test: { name: 'bench', include: BENCH } },
    ],
  },
})
