// The workbench is served by the Fastify server from ui/dist. In `npm run dev`
// Vite serves it with hot reload and forwards every endpoint, WebSocket
// upgrades included, to the Fastify server running beside it.
import { defineConfig } from 'vite'

const target = `http://127.0.0.1:${process.env.LAB_SERVER_PORT ?? '3000'}`
const proxied = ['/poll', '/long-poll', '/sse', '/api', '/metrics', '/endpoints']

export default defineConfig({
  root: import.meta.dirname,
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
})
