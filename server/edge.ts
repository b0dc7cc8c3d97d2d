// Who owns each request and each upgrade, decided once by path. engine.io
// and @fastify/websocket both want the server's 'upgrade' event; if both
// listened, the plugin would route /socket.io/ through Fastify and engine.io
// would be handed the same socket twice. Here every upgrade has exactly one
// owner: engine.io claims /socket.io/, the raw WebSocket transport claims /ws
// and passes it on to the emitter @fastify/websocket listens on, and an
// upgrade nobody claimed is refused here with a 404. Requests work the same
// way, because engine.io must see /socket.io/ before Fastify's router does.
import { EventEmitter } from 'node:events'
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Socket } from 'node:net'
import type { WireMeter } from './wire/meter.ts'
import { isLabError, type LabError } from './core/errors.ts'
import { TrustedProxies } from './client-address.ts'

type Match = (path: string) => boolean
type RequestOwner = (req: IncomingMessage, res: ServerResponse) => void
type UpgradeOwner = (req: IncomingMessage, socket: Duplex, head: Buffer) => void
/** Throws a LabError to refuse a request or upgrade before any owner sees it. */
type Guard = (req: IncomingMessage, upgrade: boolean) => void

export class Edge {
  /** The upgrades handed to @fastify/websocket, which listens here instead of on the server. */
  readonly fastifyUpgrades = new EventEmitter()
  private readonly requestOwners: Array<{ match: Match; owner: RequestOwner }> = []
  private readonly upgradeOwners: Array<{ match: Match; owner: UpgradeOwner }> = []
  private readonly connectionTaps: Array<(socket: Socket) => void> = []
  private readonly guards: Guard[] = []
  private readonly meter: WireMeter
  private readonly perAddress = new Map<string, number>()
  private readonly maxPerAddress: number
  private readonly proxies: TrustedProxies
  /** Headers every HTTP response carries (Lab-Instance, when several servers share the chat). */
  readonly responseHeaders: Array<[string, string]> = []

  /**
   * `maxPerAddress`: open TCP connections one client address may hold (0: no limit), except a trusted
   * proxy, whose connections carry many clients.
   */
  constructor(meter: WireMeter, maxPerAddress = 0, proxies = new TrustedProxies('')) {
    this.meter = meter
    this.maxPerAddress = maxPerAddress
    this.proxies = proxies
  }

  /** For Fastify's serverFactory option. */
  createServer(fastifyHandler: RequestListener): Server {
    const server = createServer((req, res) => {
      this.meter.onRequest(req, res)
      for (const [name, value] of this.responseHeaders) res.setHeader(name, value)
      const refusal = this.refusal(req, false)
      if (refusal) {
        const body = JSON.stringify({ type: 'error', code: refusal.code, message: refusal.message })
        res.writeHead(refusal.status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' })
        res.end(body)
        return
      }
      const path = pathOf(req)
      const claimed = this.requestOwners.find((o) => o.match(path))
      if (claimed) claimed.owner(req, res)
      else fastifyHandler(req, res)
    })
    server.on('connection', (socket: Socket) => {
      for (const tap of this.connectionTaps) tap(socket)
      if (this.admit(socket)) this.meter.track(socket)
    })
    server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      this.meter.onUpgrade(req, socket)
      const refusal = this.refusal(req, true)
      if (refusal) return refuseWith(socket, refusal)
      const path = pathOf(req)
      const claimed = this.upgradeOwners.find((o) => o.match(path))
      if (claimed) claimed.owner(req, socket, head)
      else refuse(socket, '404 Not Found', 'LAB_ERR_NOT_FOUND', `nothing at ${path} accepts an upgrade`)
    })
    return server
  }

  /**
   * Idle TCP connections cost a file descriptor each, before any transport
   * sees a request: one address may not hold them all.
   */
  private admit(socket: Socket): boolean {
    // Before any request there is no X-Forwarded-For: a proxy's clients are counted by each transport instead.
    if (this.maxPerAddress <= 0 || this.proxies.trusts(socket.remoteAddress)) return true
    const address = socket.remoteAddress ?? 'unknown'
    const count = this.perAddress.get(address) ?? 0
    if (count >= this.maxPerAddress) {
      refuse(
        socket,
        '429 Too Many Requests',
        'LAB_ERR_TOO_MANY_CONNECTIONS',
        `at most ${this.maxPerAddress} TCP connections per address`,
      )
      return false
    }
    this.perAddress.set(address, count + 1)
    socket.once('close', () => {
      const left = (this.perAddress.get(address) ?? 1) - 1
      if (left > 0) this.perAddress.set(address, left)
      else this.perAddress.delete(address)
    })
    return true
  }

  /** Every request and upgrade passes `guard` first (the origin check): a LabError it throws is the answer. */
  guard(guard: Guard): void {
    this.guards.push(guard)
  }

  private refusal(req: IncomingMessage, upgrade: boolean): LabError | undefined {
    try {
      for (const guard of this.guards) guard(req, upgrade)
      return undefined
    } catch (error) {
      if (isLabError(error)) return error
      throw error
    }
  }

  claimRequests(match: Match, owner: RequestOwner): void {
    this.requestOwners.push({ match, owner })
  }

  claimUpgrades(match: Match, owner: UpgradeOwner): void {
    this.upgradeOwners.push({ match, owner })
  }

  /** Sees each accepted connection before it is admitted or counted (a relayed one takes its client's address). */
  tapConnections(tap: (socket: Socket) => void): void {
    this.connectionTaps.push(tap)
  }
}

/** A LabError as the whole HTTP answer to an upgrade (no 101 is ever written); 401 names the auth scheme. */
export function refuseWith(socket: Duplex, error: LabError): void {
  const reason = STATUS_TEXT[error.status] ?? 'Error'
  const extra = error.status === 401 ? `${WWW_AUTHENTICATE_HEADER}\r\n` : ''
  refuse(socket as Socket, `${error.status} ${reason}`, error.code, error.message, extra)
}

/** What a 401 says about how to authenticate (RFC 6750's Bearer scheme). */
export const WWW_AUTHENTICATE = 'Bearer realm="transport-lab"'
const WWW_AUTHENTICATE_HEADER = `WWW-Authenticate: ${WWW_AUTHENTICATE}`
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
}

/** The protocol's error as a whole HTTP response, on a socket that no ServerResponse owns; then hang up. */
function refuse(socket: Socket, status: string, code: string, message: string, extraHeaders = ''): void {
  const body = JSON.stringify({ type: 'error', code, message })
  socket.on('error', () => {})
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\n${extraHeaders}Connection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
  // The server's sockets allow half-open connections: without this one would wait for the client to hang up too.
  socket.destroySoon()
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/'
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}
