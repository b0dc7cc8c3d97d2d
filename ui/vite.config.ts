// The workbench is served by the Fastify server from ui/dist. In `npm run dev`
// Vite serves it with hot reload and forwards every endpoint, WebSocket
// upgrades included, to the Fastify server running beside it.
import { defaultClientConditions, defineConfig } from 'vite'

// The Fastify server's port; ui/dev.ts sets it (default 3001, Vite itself on PORT, default 3000).
const target = `http://127.0.0.1:${process.env.LAB_SERVER_PORT ?? '3001'}`
const proxied = ['/poll', '/long-poll', '/sse', '/api', '/metrics', '/endpoints']

export default defineConfig(({ command }) => ({
  root: import.meta.dirname,
  // Vite picks the "development" export condition (Lit's dev build, with its
  // "Lit is in dev mode" warning) whenever NODE_ENV is not "production", as
  // under vitest, which builds ui/dist when it is stale. A build is always for
  // serving, so it asks for the "production" condition whatever NODE_ENV says.
  resolve:
    command === 'build'
      ? { conditions: defaultClientConditions.map((c) => (c === 'development|production' ? 'production' : c)) }
      : {},
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: {
      ...Object.fromEntries(proxied.map((path) => [path, { target }])),
      '/ws': { target, ws: true },
      '/socket.io': { target, ws: true },
    },
  },
}))
