// The class code at the door. With CLASS_CODE set, a client logs in once
// (POST /api/login) and shows the token on every transport; each transport
// checks it where its connection starts: here for the three HTTP transports
// (every request, so an expired or revoked token is refused at the next
// poll), at the upgrade for /ws, in allowRequest and io.use for Socket.IO.
// The origin check runs at the edge, before anyone owns the request.
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import { LabError } from '../core/errors.ts'
import { assertName } from '../core/validate.ts'
import { rateLimited, RateLimiter } from '../core/limits.ts'
import { Gate, tokenCookie, type Principal } from '../auth/gate.ts'
import { transportForUrl } from '../transports/index.ts'
import { OTHER } from '../wire/meter.ts'

declare module 'fastify' {
  interface FastifyInstance {
    auth: Gate
  }
}

/** The transports whose every request is an HTTP request Fastify routes. */
const HTTP_TRANSPORTS = new Set(['short-polling', 'long-polling', 'sse'])

const LoginBody = Type.Object({
  code: Type.String({ maxLength: 200, description: 'the class code, or the instructor code' }),
  name: Type.String({ description: 'the name to join under; the token carries it' }),
})

export const authPlugin = fp(
  async (app) => {
    // The server's own ports, read when asked: the main one is known once listening, the shaped ones after.
    const gate = new Gate(app.config, () => {
      const address = app.server.address()
      const main = typeof address === 'object' && address ? [address.port] : []
      return [...main, ...app.network.listeners.map((l) => l.port)]
    })
    app.decorate('auth', gate)
    // With several servers, a token revoked on another one is revoked here too, and its connections here end.
    app.shared?.onRevocation((revocation) => {
      gate.revoke(revocation)
      app.hub.endCredential(revocation.id, new LabError(revocation.code, revocation.message))
    })

    // Every POST anywhere, and every request or upgrade of a transport: a page on another origin is refused.
    // A request without Origin passes the check: it is not read for which path it went to (a poll without one is
    // most requests).
    app.edge.guard((req, upgrade) => {
      if (req.headers.origin === undefined) return
      if (upgrade || req.method === 'POST' || transportForUrl(routedPath(req.url ?? '/')) !== OTHER)
        gate.checkOrigin(req)
    })

    // By the route the router matched, not the URL as sent: `/%70oll` and `http://host/poll` are /poll too. On
    // those routes only, and without a promise: a poll is a request a second per client, and every other route
    // paid for the check too.
    app.addHook('onRoute', (route) => {
      if (!HTTP_TRANSPORTS.has(transportForUrl(route.url))) return
      // A GET (and its HEAD) has no body to refuse unread: its handler checks first. That is a call, where a hook
      // was Fastify's hook runner, a closure and a callback on every poll.
      if ([route.method].flat().every((method) => method === 'GET' || method === 'HEAD')) {
        const handler = route.handler
        route.handler = function authenticated(request, reply) {
          gate.authenticate(request.raw)
          return handler.call(this, request, reply)
        }
        return
      }
      const authenticate: onRequestHookHandler = (request, _reply, done) => {
        gate.authenticate(request.raw)
        done()
      }
      route.onRequest = [authenticate, ...(route.onRequest === undefined ? [] : [route.onRequest].flat())]
    })

    // Guessing the code is slow: ten wrong tries at once from an address, then one every 6 s. Right ones cost
    // nothing, so a class behind one address (a NAT) logs in at once.
    const guesses = new RateLimiter({ ratePerSecond: 1 / 6, burst: 10 })
    app.addHook('onClose', async () => guesses.close())

    app.post('/api/login', { schema: { body: LoginBody } }, async (request, reply) => {
      const { code, name } = request.body as { code: string; name: string }
      assertName(name)
      const bucket = guesses.bucket(app.clientAddress(request.raw))
      if (bucket && bucket.take() !== 'ok') {
        const error = rateLimited(bucket)
        error.message = `too many wrong codes from your address: try again in ${error.retryAfterSeconds} s`
        throw error
      }
      let signed
      try {
        signed = gate.login(code, name, currentPrincipal(gate, request))
      } catch (error) {
        // A name already taken is not a guess at the code.
        if ((error as LabError).code === 'LAB_ERR_NAME_TAKEN') bucket?.refund()
        throw error
      }
      bucket?.refund()
      const { token, claims } = signed
      request.log.info({ name, role: claims.role, expiresAt: claims.expiresAt }, 'logged in')
      void reply.header('set-cookie', tokenCookie(token, gate.ttlMs)).header('cache-control', 'no-store')
      return { token, expiresAt: claims.expiresAt, name: claims.name, role: claims.role }
    })

    // What the workbench asks before it shows the name prompt: is a code needed, and who am I.
    app.get('/api/auth', async (request, reply) => {
      void reply.header('cache-control', 'no-store')
      let session: Principal | undefined
      let problem: string | undefined
      try {
        session = gate.authenticate(request.raw)
      } catch (error) {
        problem = (error as LabError).message
      }
      return {
        classCode: gate.required,
        instructorCode: gate.instructorByToken,
        origins: gate.origins.describe(),
        session: session
          ? { name: session.name, role: session.role, expiresAt: session.expiresAt, channel: session.channel }
          : null,
        ...(problem ? { problem } : {}),
      }
    })

    // Logging out revokes the token: every connection that holds it ends, and its name is free again.
    app.post('/api/logout', async (request, reply) => {
      const principal = currentPrincipal(gate, request)
      void reply.header('set-cookie', tokenCookie('', 0)).header('cache-control', 'no-store')
      if (!principal) return { loggedOut: false }
      gate.revoke(principal)
      app.hub.endCredential(principal.id, new LabError('LAB_ERR_AUTH', 'you logged out'))
      const { id, name, expiresAt } = principal
      await app.shared
        ?.revoke({ id, name, expiresAt, code: 'LAB_ERR_AUTH', message: 'you logged out' })
        .catch((err) => {
          request.log.warn({ err }, 'the other servers could not be told of a logout (Redis is away)')
        })
      return { loggedOut: true, name: principal.name }
    })
  },
  { name: 'auth', dependencies: ['hub'] },
)

/**
 * A request target as Fastify's router reads it, before the router has: an
 * absolute-form target (what a client sends a proxy) without its scheme and
 * host, %-escapes decoded.
 */
function routedPath(url: string): string {
  const path = url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/]*/i, '')
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}

/** The valid token `request` carries, if any (a bad one counts as none here). */
function currentPrincipal(gate: Gate, request: FastifyRequest): Principal | undefined {
  try {
    return gate.authenticate(request.raw)
  } catch {
    return undefined
  }
}
