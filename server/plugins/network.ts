// The shaped networks (network/relay.ts): their ports start with the server,
// GET /api/network names them, and tells a page which one it came through.
import fp from 'fastify-plugin'
import type { onRequestHookHandler } from 'fastify'
import { Type } from '@sinclair/typebox'
import { NETWORK_PROFILES } from '../network/profiles.ts'
import { NetworkRelays } from '../network/relay.ts'

const Profile = Type.Object({
  id: Type.String(),
  label: Type.String(),
  rttMs: Type.Number(),
  kbitps: Type.Number(),
  port: Type.Integer(),
})
const NetworkAnswer = Type.Object({
  /** The server's own port, where nothing is shaped. */
  directPort: Type.Integer(),
  /** The profile this request came through; null when it came straight to the server's port. */
  current: Type.Union([Type.String(), Type.Null()]),
  profiles: Type.Array(Profile),
})

declare module 'fastify' {
  interface FastifyInstance {
    network: NetworkRelays
  }
}

export const networkRoutes = fp(
  async (app) => {
    const relays = new NetworkRelays()
    app.decorate('network', relays)
    app.edge.tapConnections((socket) => relays.adopt(socket))
    app.addHook('onReady', async () => {
      if (app.config.networkPort < 0) return
      await relays.listen(NETWORK_PROFILES, app.config.host, app.config.networkPort, () => ({
        host: loopbackFor(app.config.host),
        port: mainPort(app.server),
      }))
    })
    app.addHook('onClose', async () => {
      await relays.close()
    })
    // A page behind a shaped port reads the meter and the clock from this one, unshaped: a cross-origin read
    // that only the lab's own ports, on the host the request names, may make. On those routes only (registered
    // after this plugin), and without a promise: a hook here ran for every poll.
    const allowShapedOrigin: onRequestHookHandler = (request, reply, done) => {
      const origin = request.headers.origin
      if (origin !== undefined && fromShapedPort(origin, request.headers.host, relays))
        reply.header('access-control-allow-origin', origin).header('vary', 'Origin')
      done()
    }
    app.addHook('onRoute', (route) => {
      if (!/^\/api\/(wire|time)(\/|$)/.test(route.url)) return
      route.onRequest = [allowShapedOrigin, ...(route.onRequest === undefined ? [] : [route.onRequest].flat())]
    })
    app.get('/api/network', { schema: { response: { 200: NetworkAnswer } } }, async (request) => ({
      directPort: mainPort(app.server),
      current: relays.profile(request.raw.socket)?.id ?? null,
      profiles: relays.listeners.map(({ profile, port }) => ({ ...profile, port })),
    }))
  },
  { name: 'network-routes' },
)

function fromShapedPort(origin: string, host: string | undefined, relays: NetworkRelays): boolean {
  try {
    const page = new URL(origin)
    const asked = new URL(`http://${host}`)
    return page.hostname === asked.hostname && relays.listeners.some(({ port }) => String(port) === page.port)
  } catch {
    return false
  }
}

function mainPort(server: { address(): unknown }): number {
  const address = server.address()
  return typeof address === 'object' && address !== null ? (address as { port: number }).port : 0
}

/** Where the relay reaches the server: a wildcard bind is reached on loopback of its family. */
function loopbackFor(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '::1'
  return host
}
