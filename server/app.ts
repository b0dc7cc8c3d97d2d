// Builds the app from plugins, registered one by one so that reading this file
// tells what the server is made of. main.ts only listens; tests call buildApp.
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify'
import fastifyWebsocket from '@fastify/websocket'
import type { IncomingMessage } from 'node:http'
import type { Config } from './config.ts'
import type { Hub } from './core/hub.ts'
import type { RedisLog } from './scale/redis-log.ts'
import { Edge } from './edge.ts'
import { TrustedProxies } from './client-address.ts'
import { TOKEN_SUBPROTOCOL, type Principal } from './auth/gate.ts'
import { errorReplies } from './plugins/errors.ts'
import { authPlugin } from './plugins/auth.ts'
import { benchResults } from './plugins/bench-results.ts'
import { clusterRoutes } from './plugins/cluster.ts'
import { hubPlugin } from './plugins/hub.ts'
import { instructorRoutes } from './plugins/instructor.ts'
import { joinRoutes } from './plugins/join.ts'
import { lessonRoutes } from './plugins/lessons.ts'
import { networkRoutes } from './plugins/network.ts'
import { workbenchUi } from './plugins/ui.ts'
import { wireRoutes } from './plugins/wire.ts'
import { transportForUrl, transports } from './transports/index.ts'
import { WireMeter } from './wire/meter.ts'
import { logError, logRequest, redactUrl } from './wire/redact.ts'
import { RequestLogger, writes } from './request-log.ts'
import { schemaCompilers } from './route-schemas.ts'

/** Where Fastify binds a request's id in its log lines (its requestIdLogLabel, left at the default). */
const REQUEST_ID_LABEL = 'reqId'

declare module 'fastify' {
  interface FastifyInstance {
    config: Config
    hub: Hub
    /** The Redis log several servers share (REDIS_URL); undefined when this server is alone. */
    shared: RedisLog | undefined
    wire: WireMeter
    edge: Edge
    /** Whose request this is: the TCP peer, or behind a TRUST_PROXY balancer the client it forwards for. */
    clientAddress(req: IncomingMessage): string
  }
}

/** TCP connections an address may hold per MAX_CLIENTS_PER_ADDRESS. */
export const TCP_CONNECTIONS_PER_CLIENT_SLOT = 6

export interface BuildOptions {
  /** Where log lines go (pino's stdout destination when absent); tests read them here. */
  logStream?: { write(line: string): unknown }
  /** The lessons folder (lessons/ when absent); tests serve lessons from a temporary one. */
  lessonsDir?: string
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  // The inspector shows who each stream's token named and where it travelled: the gate (app.auth, registered
  // below) remembers that for the request that opened the stream.
  const proxies = new TrustedProxies(config.trustProxy)
  const clientAddress = (req: IncomingMessage) => proxies.clientAddress(req)
  const wire: WireMeter = new WireMeter(
    transportForUrl,
    (req): Principal | undefined => app.auth.principalOf(req),
    clientAddress,
  )
  // Room for MAX_CLIENTS_PER_ADDRESS on each of the five transports, and the spare connections browsers keep.
  const edge = new Edge(wire, config.maxClientsPerAddress * TCP_CONNECTIONS_PER_CLIENT_SLOT, proxies)

  const app = Fastify({
    serverFactory: (handler) => edge.createServer(handler),
    bodyLimit: config.bodyLimitBytes,
    schemaController: { compilersFactory: schemaCompilers },
    logController: new RequestsAtDebug(),
    logger: {
      level: config.logLevel,
      ...(options.logStream ? { stream: options.logStream } : {}),
      // A token or a session can ride in a URL (?token=) and in a malformed request's bytes: never in a log line.
      // Serializers run only for lines written, so a polling request pays nothing for this below debug.
      serializers: { req: logRequest, err: logError, url: redactUrl },
    },
    // Every log line names the TCP connection and the transport it belongs to.
    childLoggerFactory(logger, bindings, options, rawReq) {
      const conn = wire.connectionId(rawReq.socket)
      const transport = wire.transportOf(rawReq.socket)
      // A route of its own level or serializers gets pino's child as it asks; any other request one made on first use.
      // Fastify binds one thing, the request's id under requestIdLogLabel (its default, reqId, here).
      const id: unknown = bindings[REQUEST_ID_LABEL]
      if (options.level !== undefined || options.serializers !== undefined || id === undefined)
        return logger.child({ ...bindings, conn, transport }, options)
      return new RequestLogger(logger, REQUEST_ID_LABEL, id, conn, transport).asLogger()
    },
  })

  app.decorate('config', config)
  app.decorate('wire', wire)
  app.decorate('edge', edge)
  app.decorate('clientAddress', clientAddress)

  await app.register(errorReplies)
  await app.register(hubPlugin)
  await app.register(authPlugin)
  // Before the routes it adds CORS headers to (the meter's and the clock's), so that it hooks those routes alone.
  await app.register(networkRoutes)
  await app.register(wireRoutes)
  await app.register(instructorRoutes)
  await app.register(clusterRoutes)
  // In a scope of its own with the /ws route: its hooks would otherwise run for every request (two per poll).
  const websocketScope = async (scope: FastifyInstance, plugin: FastifyPluginAsync) => {
    await scope.register(fastifyWebsocket, {
      // Listen only for the upgrades the edge gives it (/ws), never the server's own 'upgrade' event.
      // Compression is offered here and chosen per connection in transports/websocket.ts.
      options: {
        server: edge.fastifyUpgrades as never,
        maxPayload: config.bodyLimitBytes,
        perMessageDeflate: { threshold: 0 },
        // A browser's WebSocket cannot set headers, so it may offer its token as a subprotocol beside
        // "bearer"; the server picks "bearer", so the 101 never echoes the token.
        handleProtocols: (protocols: Set<string>) => (protocols.has(TOKEN_SUBPROTOCOL) ? TOKEN_SUBPROTOCOL : false),
      },
      preClose(done) {
        for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down')
        done()
      },
    })
    // The one ws server, also on the root instance: where a test or a plugin outside the scope looks for it.
    app.decorate('websocketServer', scope.websocketServer)
    await scope.register(plugin)
  }
  for (const { name, plugin } of transports)
    await app.register(name === 'websocket' ? (scope) => websocketScope(scope, plugin) : plugin)
  app.addHook('preClose', async () => {
    wire.destroyUnused()
  })
  await app.register(benchResults)
  await app.register(lessonRoutes, { dir: options.lessonsDir })
  await app.register(joinRoutes)
  await app.register(workbenchUi)
  return app
}

/** Polling makes a request a second per client: the per-request lines go to debug so info stays readable. */
class RequestsAtDebug extends LogController {
  // Asked first, so that a request below debug builds no line's fields (nor reads the clock for one).
  override incomingRequest(request: FastifyRequest): void {
    if (writes(request.log, 'debug'))
      request.log.debug({ method: request.method, url: request.url }, 'incoming request')
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (writes(request.log, 'debug'))
      request.log.debug(
        { status: reply.statusCode, ms: reply.elapsedTime, err: error ?? undefined },
        'request completed',
      )
  }
}
