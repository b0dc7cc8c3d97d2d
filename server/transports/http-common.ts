// What the three HTTP transports (short polling, long polling, SSE) share:
// sessions for clients that have no connection to be identified by, the POST
// that carries join/leave/send, and the polling batch. Each transport file
// keeps only its own way of getting entries to the client.
import { randomBytes } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { LabError } from '../core/errors.ts'
import { SESSION_HEADER } from '../core/names.ts'
import { ackOf, type JoinMessage, type LeaveMessage, type LogEntry, type Sender } from '../core/protocol.ts'
import { parseClientMessage } from '../core/validate.ts'
import { AddressCounter, RateLimiter } from '../core/limits.ts'
import type { Client, Ending } from '../core/hub.ts'
import type { PageResult } from '../core/hub.ts'
import type { WireRecorder, WireStream } from '../wire/meter.ts'
import { encode } from '../wire/payload.ts'
import { readName } from './query.ts'
import type { Principal } from '../auth/gate.ts'

/** A session's client, and the recorder of its stream on the wire meter (fetched once per request). */
export interface ResolvedSession {
  client: Client
  wire: WireRecorder
}

/**
 * An HTTP client proves who it is with a session token it got from its join
 * (or from the SSE welcome). The token is a secret; the clientId shown in
 * presence is not. Sessions made by joining over POST count against their
 * address's MAX_CLIENTS_PER_ADDRESS; every session has its message rate.
 */
export class HttpSessions {
  /**
   * Token -> its session's stream on the wire meter: every request that carries the token counts there (a page
   * reads its own connection's figures). The client is the token's first part (see issue), and a session
   * counted against its address leaves the stream's: nothing else is kept per session, where an object with
   * the three was about 50 bytes of every idle client (npm run bench:heap).
   */
  private readonly tokens = new Map<string, WireStream>()
  /** Sessions sent away, with why, until the next sweep after HTTP_SESSION_TTL_MS. */
  private readonly ended = new Map<string, LabError>()
  private endedBefore = new Set<string>()
  private readonly transport: string
  private readonly app: FastifyInstance
  private readonly sweep: NodeJS.Timeout
  private readonly perAddress: AddressCounter
  /** Whether its sessions count against their address's MAX_CLIENTS_PER_ADDRESS (the polling joins' do). */
  private readonly counted: boolean
  private readonly rates: RateLimiter

  /** `countAddress`: each session counts against its address's limit (issue throws over it). */
  constructor(app: FastifyInstance, transport: string, countAddress: boolean) {
    this.app = app
    this.transport = transport
    this.counted = countAddress && app.config.maxClientsPerAddress > 0
    this.perAddress = new AddressCounter(app.config.maxClientsPerAddress, `${transport} sessions`)
    this.rates = new RateLimiter({ ratePerSecond: app.config.messageRate, burst: app.config.messageBurst })
    this.sweep = setInterval(() => this.forgetExpired(), Math.min(app.config.httpSessionTtlMs, 10_000))
    this.sweep.unref()
    app.addHook('onClose', async () => {
      clearInterval(this.sweep)
      this.rates.close()
    })
  }

  /** A session for `client`, opened by `request` (its stream's first); counted, it may throw over its address's limit. */
  issue(client: Client, request: FastifyRequest): { token: string; wire: WireRecorder } {
    // The stream's address is the one counted (both are the client's address): revoke leaves it.
    if (this.counted) this.perAddress.enter(this.app.clientAddress(request.raw))
    const token = `${client.clientId}.${randomBytes(12).toString('base64url')}`
    const stream = this.app.wire.openStream(this.transport, request.raw)
    this.tokens.set(token, stream)
    return { token, wire: stream.recorder }
  }

  /**
   * Sends the client's sessions away (an instructor's disconnect): each
   * session's next request is answered with `reason` (a long poll held now is
   * answered by the leave notice), then the token is forgotten like any other.
   */
  end(clientId: string, reason: LabError): void {
    for (const token of this.tokens.keys()) {
      if (clientIdOf(token) !== clientId) continue
      this.revoke(token)
      this.ended.set(token, reason)
    }
  }

  /** The session's client, its lease renewed; undefined without a token; an error for a token that expired. */
  resolve(request: FastifyRequest): ResolvedSession | undefined {
    const token = tokenOf(request)
    return token === undefined ? undefined : this.carry(token, request)
  }

  /** `request` carries the session `token` (an SSE stream reopened with it): as resolve(). */
  carry(token: string, request: FastifyRequest): ResolvedSession {
    const ended = this.ended.get(token)
    if (ended) throw ended
    const stream = this.tokens.get(token)
    const client = stream ? this.app.hub.client(clientIdOf(token)) : undefined
    if (!stream || !client) {
      this.revoke(token)
      throw new LabError('LAB_ERR_UNKNOWN_CLIENT')
    }
    // A session is its joiner's: another token holder who learned its id cannot speak through it.
    const principal = this.app.auth.principalOf(request.raw)
    if (client.credential && principal?.name !== client.name)
      throw new LabError('LAB_ERR_AUTH', `this session belongs to ${client.name}: send ${client.name}'s token with it`)
    this.app.hub.touch(client.clientId)
    stream.charge(request.raw)
    return { client, wire: stream.recorder }
  }

  /** One message from this request's session (or its address, without one) against the message rate. */
  admit(request: FastifyRequest, client: Client | undefined): void {
    this.rates.check(client ? client.clientId : `address ${this.app.clientAddress(request.raw)}`)
  }

  revoke(token: string): void {
    const stream = this.tokens.get(token)
    if (!stream) return
    if (this.counted) this.perAddress.leave(stream.address)
    stream.close()
    this.tokens.delete(token)
  }

  private forgetExpired(): void {
    // A sent-away token is answered for one to two sweeps: long enough for its client's next request.
    for (const token of this.endedBefore) this.ended.delete(token)
    this.endedBefore = new Set(this.ended.keys())
    for (const token of this.tokens.keys()) {
      if (!this.app.hub.client(clientIdOf(token))) this.revoke(token)
    }
  }
}

/** Who a send without a session is from: the token's holder, or the name it gives. */
function anonymousSender(name: string | undefined, principal: Principal | undefined): string {
  return principal ? readName(name, principal) : (name ?? 'anonymous')
}

/** The client a token issued here names: its part before the dot. */
const clientIdOf = (token: string): string => token.slice(0, token.indexOf('.'))

function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers[SESSION_HEADER]
  if (typeof header === 'string' && header) return header
  const query = (request.query as Record<string, unknown>).session
  return typeof query === 'string' && query ? query : undefined
}

/**
 * Request bodies reach the protocol parser as text, so bad JSON gets the
 * protocol's own error code. JSON is the only media type: Fastify's default
 * text/plain parser goes, so a page on another origin cannot post into the
 * chat with a no-cors fetch (only a "simple" content type avoids the CORS
 * preflight, and application/json is not one).
 */
export function acceptJsonAsText(app: FastifyInstance): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: app.config.bodyLimitBytes },
    (_req, body, done) => done(null, body),
  )
}

/** Replies with a protocol message; its bytes are payload on the wire meter. */
export function replyMessage(wire: WireRecorder, reply: FastifyReply, message: object, status = 200): string {
  const { json, bytes } = encode(message)
  wire.sent(bytes)
  void reply.code(status).type('application/json; charset=utf-8')
  return json
}

/**
 * The polling response. The entries are the payload; the envelope around them
 * (room, epoch, seq, recovered) is framing, counted as overhead like headers.
 */
export function replyBatch(wire: WireRecorder, reply: FastifyReply, room: string, read: PageResult): string {
  const batch = batchOf(room, read)
  wire.sent(batch.payload, read.entries.length)
  void reply.code(200).type('application/json; charset=utf-8')
  return batch.text
}

/**
 * The entries of the page written last, joined once: the polls one append
 * wakes, and the short polls that come between two appends, ask for the same
 * newest entries from cursors that differ, and each answer is a tail of it.
 */
interface Run {
  room: string
  epoch: string
  entries: readonly LogEntry[]
  /** The entries' JSON joined with commas. */
  joined: string
  /** Where each entry starts in `joined`, and the payload bytes from it to the end. */
  starts: number[]
  payloadFrom: number[]
  /** The answer written last from it: the polls one append wakes all ask for the same one. */
  written?: { at: number; seq: number; recovered: boolean; more: boolean; text: string }
}

// One run (the latest page written, of any room), so that what is kept stays small.
let lastRun: Run | undefined

function batchOf(room: string, read: PageResult): { text: string; payload: number } {
  const { entries } = read
  if (entries.length > 0) {
    let run = lastRun
    let at = run ? tailAt(run, room, read) : -1
    if (!run || at < 0) {
      run = runOf(room, read.epoch, entries)
      lastRun = run
      at = 0
    }
    const { written } = run
    if (
      written?.at === at &&
      written.seq === read.seq &&
      written.recovered === read.recovered &&
      written.more === read.more
    )
      return { text: written.text, payload: run.payloadFrom[at]! }
    const text = envelope(room, read, at === 0 ? run.joined : run.joined.slice(run.starts[at]))
    run.written = { at, seq: read.seq, recovered: read.recovered, more: read.more, text }
    return { text, payload: run.payloadFrom[at]! }
  }
  return { text: emptyBatch(room, read), payload: 0 }
}

/** Each room's empty answer written last: the polls of a room time out together, and each would write the same text. */
const emptyBatches = new Map<string, { epoch: string; seq: number; recovered: boolean; text: string }>()
const EMPTY_BATCHES_KEPT = 256

function emptyBatch(room: string, read: PageResult): string {
  const kept = emptyBatches.get(room)
  if (kept?.seq === read.seq && kept.epoch === read.epoch && kept.recovered === read.recovered && !read.more)
    return kept.text
  const text = envelope(room, read, '')
  if (!kept && emptyBatches.size >= EMPTY_BATCHES_KEPT) emptyBatches.delete(emptyBatches.keys().next().value!)
  emptyBatches.set(room, { epoch: read.epoch, seq: read.seq, recovered: read.recovered, text })
  return text
}

function envelope(room: string, read: PageResult, joined: string): string {
  return (
    `{"type":"batch","room":${JSON.stringify(room)},"epoch":"${read.epoch}","seq":${read.seq},` +
    `"recovered":${read.recovered},"entries":[${joined}]${read.more ? ',"more":true' : ''}}`
  )
}

/** Where `read`'s entries start in `run` when they are a tail of it, else -1. */
function tailAt(run: Run, room: string, read: PageResult): number {
  const { entries } = read
  const at = run.entries.length - entries.length
  if (at < 0 || run.room !== room || run.epoch !== read.epoch) return -1
  // The same objects, not equal ones: a room's log entry is made once, so the same object is the same entry.
  if (run.entries[at] !== entries[0] || run.entries.at(-1) !== entries.at(-1)) return -1
  return at
}

function runOf(room: string, epoch: string, entries: readonly LogEntry[]): Run {
  const parts: string[] = []
  const starts: number[] = []
  const bytes: number[] = []
  let offset = 0
  for (const entry of entries) {
    const encoded = encode(entry)
    starts.push(offset)
    offset += encoded.json.length + 1
    bytes.push(encoded.bytes)
    parts.push(encoded.json)
  }
  const payloadFrom: number[] = new Array<number>(entries.length)
  let total = 0
  for (let i = entries.length - 1; i >= 0; i--) payloadFrom[i] = total += bytes[i]!
  return { room, epoch, entries, joined: parts.join(','), starts, payloadFrom }
}

export interface PostOptions {
  transport: string
  sessions: HttpSessions
  /** SSE clients join by opening a stream, so their POST only sends. */
  joinByPost: boolean
  /** Sent in the welcome: the poll interval the server suggests (short polling). */
  pollIntervalMs?: number
  /** Called for every session this transport creates, so the transport can give it a lease. */
  leaseMs: number
}

/** POST /<transport>: one client message (join, leave or send) per request. */
export function handlePost(app: FastifyInstance, options: PostOptions) {
  const { transport, sessions } = options
  const transportWire = app.wire.recorder(transport)
  // One for every client this transport joins (the hub says which): a closure per client would be kept as long as it.
  const endSession: Ending = (reason, clientId) => sessions.end(clientId, reason)
  const withInterval = <T extends object>(welcome: T) =>
    options.pollIntervalMs ? { ...welcome, pollIntervalMs: options.pollIntervalMs } : welcome
  // A polling client has no stream: the join is the request that opens it, and its welcome names the join's connection.
  const opened = (request: FastifyRequest, clientId: string) => {
    const connectionId = app.wire.opened(transport, request.raw)
    app.hub.moved(clientId, connectionId)
    return connectionId === undefined ? {} : { connectionId }
  }
  // Not async: a send to a log this process keeps is answered without a promise (a join waits for the hub).
  return (request: FastifyRequest, reply: FastifyReply): string | Promise<string> => {
    const body = typeof request.body === 'string' ? request.body : ''
    if (request.body === undefined || request.body === null) throw new LabError('LAB_ERR_MEDIA_TYPE')
    // The body counts for the session's stream (a first join's new one), or for the transport alone when there
    // is none or the request is refused before its session is known: `counted` says which once answered.
    const counted = { wire: transportWire, body }
    let answered: string | Promise<string>
    try {
      answered = answer(request, reply, body, counted)
    } catch (error) {
      countBody(counted)
      throw error
    }
    if (typeof answered === 'string') {
      countBody(counted)
      return answered
    }
    return answered.finally(() => countBody(counted))
  }

  function answer(
    request: FastifyRequest,
    reply: FastifyReply,
    body: string,
    counted: { wire: WireRecorder },
  ): string | Promise<string> {
    const session = sessions.resolve(request)
    const client = session?.client
    if (session) counted.wire = session.wire
    const wire = counted.wire
    sessions.admit(request, client)
    const message = parseClientMessage(body, { textMaxBytes: app.config.textMaxBytes })
    if (message.type !== 'send') return joinOrLeave(request, reply, message, client, counted)
    const from: Sender = client
      ? { clientId: client.clientId, name: client.name, transport }
      : { clientId: 'anonymous', name: anonymousSender(message.name, app.auth.principalOf(request.raw)), transport }
    const entry = app.hub.publishNow(from, message.room, message)
    if (entry) return replyMessage(wire, reply, ackOf(entry))
    // A shared log numbers it first.
    return app.hub.publish(from, message.room, message).then((numbered) => replyMessage(wire, reply, ackOf(numbered)))
  }

  async function joinOrLeave(
    request: FastifyRequest,
    reply: FastifyReply,
    message: JoinMessage | LeaveMessage,
    client: Client | undefined,
    counted: { wire: WireRecorder },
  ): Promise<string> {
    const wire = counted.wire
    switch (message.type) {
      case 'join': {
        if (!options.joinByPost) {
          throw new LabError(
            'LAB_ERR_UNSUPPORTED',
            'an SSE stream carries one room: open GET /sse?room=NAME to join it',
          )
        }
        if (client) {
          const { welcome } = await app.hub.join(client.clientId, message.room, message.after)
          request.log.info({ clientId: client.clientId, room: message.room }, 'joined')
          return replyMessage(wire, reply, withInterval({ ...welcome, ...opened(request, client.clientId) }))
        }
        // A new session: counted against its address first, and gone again if the join is refused.
        const principal = app.auth.principalOf(request.raw)
        const joiner: Client = app.hub.connect({
          name: readName(message.name, principal),
          transport,
          leaseMs: options.leaseMs,
          end: endSession,
          credential: principal && { id: principal.id, expiresAt: principal.expiresAt },
        })
        let issued: { token: string; wire: WireRecorder } | undefined
        let welcome
        try {
          issued = sessions.issue(joiner, request)
          welcome = (await app.hub.join(joiner.clientId, message.room, message.after)).welcome
        } catch (error) {
          if (issued) sessions.revoke(issued.token)
          app.hub.disconnect(joiner.clientId)
          throw error
        }
        counted.wire = issued.wire
        request.log.info({ clientId: joiner.clientId, room: message.room }, 'joined')
        return replyMessage(
          issued.wire,
          reply,
          withInterval({ ...welcome, ...opened(request, joiner.clientId), session: issued.token }),
        )
      }
      case 'leave': {
        if (!options.joinByPost) {
          throw new LabError('LAB_ERR_UNSUPPORTED', 'an SSE stream carries one room: close the stream to leave it')
        }
        if (!client)
          throw new LabError(
            'LAB_ERR_UNKNOWN_CLIENT',
            `leave needs the session from your join, in the ${SESSION_HEADER} header`,
          )
        const seq = await app.hub.leave(client.clientId, message.room)
        return replyMessage(wire, reply, { type: 'ack', room: message.room, seq, id: '' })
      }
    }
  }
}

/** The POST's body counts on the stream it came to be counted for (see handlePost). */
function countBody(counted: { wire: WireRecorder; body: string }): void {
  counted.wire.received(Buffer.byteLength(counted.body))
}
