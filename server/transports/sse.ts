// Server-Sent Events: one long HTTP response the server keeps writing to.
// Each entry is an event whose id is the entry's id, EPOCH-SEQ, so a browser
// that reconnects sends Last-Event-ID naming both the log and the position,
// and gets exactly what it missed (or recovered: false after a restart).
// Server to client only: sending is a POST, like the polling transports.
//
// With no way for the client to answer on the stream, a reader that stopped
// looks like a quiet one. So the server ends each stream after
// SSE_STREAM_MAX_MS: EventSource reopens it at once with Last-Event-ID and
// carries on as the same member, a dead reader does not and leaves.
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { TRANSPORT_INFO } from '../core/names.ts'
import { LabError } from '../core/errors.ts'
import { AddressCounter } from '../core/limits.ts'
import { Schedule } from '../core/schedule.ts'
import type { Cursor, LogEntry, Welcome } from '../core/protocol.ts'
import type { WireRecorder } from '../wire/meter.ts'
import { encode } from '../wire/payload.ts'
import { acceptJsonAsText, handlePost, HttpSessions } from './http-common.ts'
import { readName, readRoomQuery } from './query.ts'
import { CLOSE_GRACE_MS, PushSession, type PushOutput } from './push-session.ts'
import { batchWrites, flushIfFull } from './write-batch.ts'

const transport = 'sse'
const { path } = TRANSPORT_INFO[transport]
/** The reconnection delay EventSource uses after a failure. */
const RECONNECT_MS = 2000
/** After a stream the server ended on purpose the browser may come back at once. */
const RENEW_RECONNECT_MS = 100
/** How long the member of a renewed stream waits for the browser to reopen it before it leaves. */
export const SSE_REJOIN_GRACE_MS = RECONNECT_MS + 3000

/** Renewal delays are whole multiples of this (see renewalDelay), and renewals are due in grains of it. */
const RENEWAL_GRAIN_MS = 100

/**
 * When a stream is renewed: SSE_STREAM_MAX_MS ±10%, so that streams opened together are not renewed together,
 * on a 100 ms grain: the renewals are due in grains of it (core/schedule.ts), so that 30 s ±10% takes at most
 * 61 timers for any number of streams, where a Timeout each was about 150 bytes of every idle stream.
 */
export function renewalDelay(maxMs: number, random = Math.random()): number {
  return Math.ceil((maxMs * (0.9 + random * 0.2)) / RENEWAL_GRAIN_MS) * RENEWAL_GRAIN_MS
}

interface Detached {
  clientId: string
  name: string
  session: string
  /** When the hub lets the member go (its lease): past this it is nobody's to take. */
  until: number
}

// An entry's event is made once, however many streams it goes to: each stream writes the same bytes. Kept
// for the turn that made it, beside the entry and not on it: a property added to an entry after it was made
// (even set back to undefined) stays on it in a property array of its own, about 40 bytes of every join
// notice the room's log keeps (npm run bench:heap).
const eventsThisTurn = new Map<LogEntry, Buffer>()
/** The entry a fan-out is writing to stream after stream: its event, without a lookup. */
let lastEntry: LogEntry | undefined
let lastEvent: Buffer | undefined

function eventOf(entry: LogEntry): Buffer {
  if (entry === lastEntry) return lastEvent!
  let event = eventsThisTurn.get(entry)
  if (!event) {
    event = Buffer.from(
      `id: ${entry.id}\n${entry.type === 'message' ? '' : `event: ${entry.type}\n`}data: ${encode(entry).json}\n\n`,
    )
    if (eventsThisTurn.size === 0) setImmediate(letGo)
    eventsThisTurn.set(entry, event)
  }
  lastEntry = entry
  lastEvent = event
  return event
}

function letGo(): void {
  eventsThisTurn.clear()
  lastEntry = lastEvent = undefined
}

export const sse: FastifyPluginAsync = async (app) => {
  acceptJsonAsText(app)
  const streams = new SseStreams(app)
  // One timer beats for every open stream, as the WebSocket heartbeat does: a Timeout each would be kept
  // as long as its stream (and fired on its own). A stream's first comment comes within SSE_HEARTBEAT_MS.
  const beating = setInterval(() => streams.beat(), app.config.sseHeartbeatMs)
  beating.unref()
  app.addHook('onClose', async () => {
    clearInterval(beating)
    streams.renewals.clear()
  })

  app.get(path, async (request, reply) => {
    const header = request.headers['last-event-id']
    const lastEventId = typeof header === 'string' && header ? header : undefined
    const query = request.query as Record<string, unknown>
    const { room, cursor } = readRoomQuery(query, lastEventId)
    const principal = app.auth.principalOf(request.raw)
    const name =
      principal || (query.name !== undefined && query.name !== '') ? readName(query.name, principal) : undefined
    const stream = new SseStream(streams, request, reply, room, name, lastEventId)
    await stream.open(cursor)
  })

  app.post(
    path,
    handlePost(app, {
      transport,
      sessions: streams.sessions,
      joinByPost: false,
      leaseMs: app.config.httpSessionTtlMs,
    }),
  )

  app.addHook('preClose', async () => {
    streams.stopping = true
    for (const stream of [...streams.open]) stream.shutdown()
  })
}

/** What this server's streams share: the transport's counters, the sessions, the open streams and the renewed members. */
class SseStreams {
  readonly app: FastifyInstance
  readonly transportWire: WireRecorder
  readonly sessions: HttpSessions
  readonly perAddress: AddressCounter
  /** Each open stream: it gets the heartbeat, and a shutdown when the server stops. */
  readonly open = new Set<SseStream>()
  /**
   * Members whose stream was renewed, by the reconnect that would continue
   * it: the same address and URL (room, name) and the last event id written.
   * Several streams can share a key (two tabs alike): each reconnect takes one.
   * Dropped once past their grace, by the reconnect that looks or by the heartbeat:
   * no timer each, so a renewal that is taken up at once leaves nothing behind.
   */
  private readonly detached = new Map<string, Detached[]>()
  /** Each open stream's renewal, one timer per 100 ms grain with streams due in it, not a Timeout per stream. */
  readonly renewals = new Schedule<SseStream>(RENEWAL_GRAIN_MS, renew)
  stopping = false

  constructor(app: FastifyInstance) {
    this.app = app
    this.transportWire = app.wire.recorder(transport)
    this.sessions = new HttpSessions(app, transport, false)
    this.perAddress = new AddressCounter(app.config.maxClientsPerAddress, 'SSE streams')
  }

  beat(): void {
    for (const stream of this.open) stream.beat()
    const now = Date.now()
    for (const [key, waiting] of this.detached) {
      const left = waiting.filter((d) => d.until > now)
      if (left.length === 0) this.detached.delete(key)
      else if (left.length < waiting.length) this.detached.set(key, left)
    }
  }

  /** The member a renewed stream left for `key` to carry on as. */
  detach(key: string, member: Detached): void {
    const waiting = this.detached.get(key)
    if (waiting) waiting.push(member)
    else this.detached.set(key, [member])
  }

  /** Takes the first member waiting for `key` that is still within its grace. */
  take(key: string): Detached | undefined {
    const waiting = this.detached.get(key)
    if (!waiting) return undefined
    const now = Date.now()
    let found: Detached | undefined
    while (!found && waiting.length > 0) {
      const first = waiting.shift()!
      if (first.until > now) found = first
    }
    if (waiting.length === 0) this.detached.delete(key)
    return found
  }
}

const renewalKey = (address: string, room: string, name: string | undefined, lastEventId: string) =>
  `${address}|${room}|${name ?? ''}|${lastEventId}`

const kStream = Symbol('sse stream')
/** SseStream.state: from the welcome on, until the response closes. */
const OPENED = 1
/** Its goodbye was a renewal: its member waits for the browser to come back. */
const RENEWED = 2
/** The response closed. */
const ENDED = 4
type StreamResponse = ServerResponse & { [kStream]?: SseStream }

/**
 * One stream: its hub session and what it needs to write, renew and close.
 * A class rather than closures in the route: an idle stream keeps this for
 * as long as it lives, and under tsx each named closure also keeps a
 * property dictionary for its name.
 */
class SseStream implements PushOutput {
  private readonly streams: SseStreams
  private readonly res: StreamResponse
  readonly log: FastifyBaseLogger
  private readonly address: string
  /** The room's own name from the welcome on: the one the hub keeps, not a copy read from each query. */
  private room: string
  private name: string | undefined
  /**
   * While the stream opens only: the welcome takes its session and answers
   * through them; `adopt` is the member a renewed stream left, when this one continues it.
   */
  private opening: { request: FastifyRequest; reply: FastifyReply; adopt: Detached | undefined } | undefined
  private session!: PushSession
  private token: string | undefined
  /** The session's stream, from the welcome on: the page that opened it reads its own figures there. */
  private wire: WireRecorder
  private lastId = ''
  /** The grain of `streams.renewals` its renewal is due in, from the welcome on. */
  private renewal = 0
  private closing: NodeJS.Timeout | undefined
  /** OPENED, RENEWED and ENDED: one field, not three (8 bytes each of every idle stream). */
  private state = 0

  constructor(
    streams: SseStreams,
    request: FastifyRequest,
    reply: FastifyReply,
    room: string,
    name: string | undefined,
    lastEventId: string | undefined,
  ) {
    this.streams = streams
    this.res = reply.raw
    this.res[kStream] = this
    // At once, so that a client gone while the stream opens is seen (see open); the same functions for every stream.
    this.res.on('error', streamError)
    this.res.once('close', streamClosed)
    this.log = request.log
    this.address = streams.app.clientAddress(request.raw)
    this.room = room
    this.name = name
    this.wire = streams.transportWire
    // Left by the one path that ends it (open's refusal, a close during the join, or closed()): no closure kept.
    streams.perAddress.enter(this.address)
    const adopt =
      lastEventId !== undefined ? streams.take(renewalKey(this.address, room, name, lastEventId)) : undefined
    this.opening = { request, reply, adopt }
    this.token = adopt?.session
  }

  async open(cursor: Cursor | undefined): Promise<void> {
    const { streams } = this
    const { app } = streams
    const { request, adopt } = this.opening!
    try {
      this.session = new PushSession(
        app,
        transport,
        adopt?.name ?? this.name ?? readName(undefined),
        request.raw,
        this,
        adopt?.clientId,
      )
      // The member it came back for may have left already: then it is a new one, with a session of its own.
      if (this.session.client.clientId !== adopt?.clientId) this.token = undefined
      await this.session.join(this.room, cursor)
    } catch (error) {
      // Refused before anything was written: an HTTP error, and nobody left behind in the hub.
      this.session?.close()
      this.streams.perAddress.leave(this.address)
      throw error
    } finally {
      this.opening = undefined
    }
    if (this.state & ENDED) {
      // The client went while its join was under way: it leaves again.
      this.session.close()
      this.streams.perAddress.leave(this.address)
      return
    }
    this.state |= OPENED
    const clientId = this.session.client.clientId
    this.log.info(
      { clientId, room: this.room, resumed: cursor?.seq, adopted: adopt !== undefined },
      'SSE stream opened',
    )
    app.wire.enterHold(transport)
    streams.open.add(this)
    this.renewal = streams.renewals.add(this, renewalDelay(app.config.sseStreamMaxMs))
  }

  welcome(welcome: Welcome, backlog: LogEntry[]): void {
    const { request, reply, adopt } = this.opening!
    const { sessions } = this.streams
    if (this.token === undefined)
      ({ token: this.token, wire: this.wire } = sessions.issue(this.session.client, request))
    else this.wire = sessions.carry(this.token, request).wire
    // The welcome's id is the position the backlog starts from, so a stream cut during the backlog resumes it.
    const position = backlog.length > 0 ? backlog[0]!.seq - 1 : welcome.seq
    // A renewed stream's member never left: who came and went meanwhile is in the backlog's notices,
    // so its welcome leaves the member list out (it would be most of a renewal's bytes).
    const renewed = this.session.client.clientId === adopt?.clientId && welcome.recovered
    this.room = welcome.room
    // The hub's copy of the name when it is the same: a renewal's query brings one of its own.
    if (this.name === this.session.client.name) this.name = this.session.client.name
    reply.hijack()
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Tells nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    })
    this.streams.app.wire.headWritten(request.raw)
    // Its request has been read (the hub, the session, the inspector's pinned handshake): what is left of it
    // goes now instead of staying with the open response for the stream's life.
    letGoOfRequest(request.raw)
    const json = encode({ ...(renewed ? { ...welcome, members: [] } : welcome), session: this.token })
    this.lastId = `${welcome.epoch}-${position}`
    this.write(
      `retry: ${RECONNECT_MS}\nid: ${this.lastId}\nevent: welcome\ndata: ${json.json}\n\n`,
      json.bytes,
      renewed ? 0 : 1,
    )
    for (const entry of backlog) this.entry(entry)
  }

  entry(entry: LogEntry): void {
    this.lastId = entry.id
    this.write(eventOf(entry), encode(entry).bytes)
  }

  error(): void {}

  buffered(): number {
    return this.res.writableLength
  }

  close(error: LabError): void {
    this.goodbye(byeFrame(error.code, error.message))
  }

  beat(): void {
    this.write(': ping\n\n', 0, 0)
    this.session.checkBuffer()
  }

  shutdown(): void {
    this.session.end(new LabError('LAB_ERR_SHUTTING_DOWN'))
  }

  /**
   * The renewal. The member is detached as the goodbye goes out, not when the
   * socket closes: nothing more is written to this stream, so the id the
   * browser will send back is exactly the last one written, and a reconnect
   * that overtakes the close still finds its place. Spread out, so that
   * streams opened together are not all renewed together.
   */
  renew(): void {
    const { session } = this
    if (session.closed) return
    this.state |= RENEWED
    this.goodbye(RENEWAL_BYE)
    session.detach(SSE_REJOIN_GRACE_MS)
    this.streams.detach(renewalKey(this.address, this.room, this.name, this.lastId), {
      clientId: session.client.clientId,
      name: session.client.name,
      session: this.token!,
      until: Date.now() + SSE_REJOIN_GRACE_MS,
    })
  }

  closed(): void {
    this.state |= ENDED
    clearTimeout(this.closing)
    // A stream refused, or still joining, is let go by open().
    if (!(this.state & OPENED)) return
    const { streams } = this
    streams.open.delete(this)
    streams.renewals.cancel(this, this.renewal)
    streams.app.wire.leaveHold(transport)
    streams.perAddress.leave(this.address)
    // A renewed stream's member waits for the browser (see renew); any other close is a leave.
    if (!(this.state & RENEWED) || streams.stopping) this.session.close()
    this.log.info({ clientId: this.session.client.clientId }, 'SSE stream closed')
  }

  logError(error: Error): void {
    this.log.warn({ err: error, clientId: this.session?.client.clientId }, 'SSE stream error')
  }

  /** A frame; `messages` 0 for what only keeps the stream alive (a heartbeat, a goodbye, a renewal's welcome). */
  private write(frame: string | Buffer, payloadBytes: number, messages = 1): void {
    const { res } = this
    if (res.writableEnded || res.destroyed) return
    this.wire.sent(payloadBytes, messages)
    // The events of one turn leave in one write, as a WebSocket's frames do (write-batch.ts).
    const socket = res.socket
    if (socket) batchWrites(socket)
    res.write(frame)
    if (socket) flushIfFull(socket)
  }

  /** Ends the stream with its goodbye (byeFrame). */
  private goodbye(frame: string | Buffer): void {
    const { res } = this
    if (res.writableEnded) return void this.closeSoon()
    // Written with the end: one write of the last chunk and the terminator.
    if (!res.destroyed) this.wire.sent(0, 0)
    res.end(res.destroyed ? undefined : frame)
    this.closeSoon()
  }

  /**
   * A reader that stopped never takes the last bytes; its socket goes after a grace period
   * (and the timer goes when the stream closes, so that it keeps nothing alive for that long).
   */
  private closeSoon(): void {
    this.closing ??= setTimeout(destroySocket, CLOSE_GRACE_MS, this.res).unref()
  }
}

const NO_RAW_HEADERS: string[] = Object.freeze([]) as unknown as string[]
const NO_HEADERS: IncomingHttpHeaders = Object.freeze({})
/** net.Socket's own field for its timer (found by its description: Node does not export it); null if not there. */
let kSocketTimer: symbol | null | undefined

/**
 * What Node keeps of an open stream's request that the stream never reads again, let go (npm run bench:heap,
 * per idle stream): its headers, both of Node's copies (the raw lines and the object parsed from them), about
 * 330 bytes, more for a renewal's (Last-Event-ID); and on a keep-alive socket that carried a response before
 * (a renewed stream's), the keep-alive timer Node stopped when this request came, which the socket still holds
 * with its bound callback, about 170 bytes (net's setTimeout(0) clears its timer but keeps it).
 */
function letGoOfRequest(req: IncomingMessage): void {
  req.rawHeaders = NO_RAW_HEADERS
  req.headers = NO_HEADERS
  const socket = req.socket as (Socket & Record<symbol, unknown>) | null
  if (!socket) return
  kSocketTimer ??= Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'timeout') ?? null
  // A timeout of 0 is one that no longer runs: its timer is only kept, and Node reads a null one as none.
  if (kSocketTimer !== null && socket.timeout === 0 && socket[kSocketTimer]) socket[kSocketTimer] = null
}

/** The last frame of a stream the server ends: why, and (for a renewal) come back at once. */
function byeFrame(code: string, message: string, retryMs?: number): string {
  return `${retryMs === undefined ? '' : `retry: ${retryMs}\n`}event: bye\ndata: ${JSON.stringify({ code, message })}\n\n`
}

/** Every renewal's goodbye is the same bytes. */
const RENEWAL_BYE = Buffer.from(
  byeFrame(
    'LAB_RENEW',
    'streams are renewed every SSE_STREAM_MAX_MS: reconnect with Last-Event-ID',
    RENEW_RECONNECT_MS,
  ),
)

// The same functions for every stream: an idle stream keeps its SseStream, not a closure per event or timer.
function renew(stream: SseStream): void {
  try {
    stream.renew()
  } catch (error) {
    // The other streams due in the same grain are still renewed.
    stream.logError(error as Error)
  }
}

function destroySocket(res: ServerResponse): void {
  res.socket?.destroy()
}

function streamError(this: StreamResponse, error: Error): void {
  this[kStream]?.logError(error)
}

function streamClosed(this: StreamResponse): void {
  this[kStream]?.closed()
}
