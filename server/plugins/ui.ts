// Serves the built workbench (ui/dist) at /. Without a build it falls back to
// the small page that lists the endpoints, so the server never depends on the UI.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fp from 'fastify-plugin'
import fastifyStatic from '@fastify/static'
import { homePage } from './home.ts'

export const UI_DIST = fileURLToPath(new URL('../../ui/dist/', import.meta.url))

export const workbenchUi = fp(
  async (app) => {
    if (!existsSync(`${UI_DIST}index.html`)) {
      app.log.warn('ui/dist is not built: serving the endpoint list at / (npm start builds the UI)')
      await app.register(homePage)
      return
    }
    await app.register(fastifyStatic, {
      root: UI_DIST,
      // One route per built file instead of a wildcard: any other path gets the
      // JSON 404 from the route table, without a look at the disk first.
      wildcard: false,
      // Vite puts a content hash in every asset name, so assets can be cached for good; index.html never.
      setHeaders(res, path) {
        res.setHeader('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable')
      },
    })
    // The endpoint list stays reachable for curl users and the lessons.
    await app.register(homePage, { prefix: '/endpoints' })
  },
  { name: 'workbench-ui' },
)
