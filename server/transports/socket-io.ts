// Socket.IO: named events over Engine.IO, which starts with HTTP long polling
// and upgrades to a WebSocket. Every packet carries a prefix (4 = message,
// 2 = event, then the JSON array ["event", ...args]) and Engine.IO pings
// every SIO_PING_INTERVAL_MS; all of that is overhead on the wire meter.
//
// Two dialects on one server:
// - the protocol (auth: { protocol: 'lab' }): join/leave/send in; welcome,
//   message, notice, error out, each with the protocol's JSON object;
// - the class notes (any other client, e.g. a bare io()): `message` welcome,
//   client_message -> server_message, join_room, leave_room, room_message.
//   Where the notes send a bare string it stays the first argument and the
//   structured object follows as the second.
//
// engine.io takes /socket.io/ before Fastify routes anything, so Fastify's
// hooks and body limits never see this traffic: limits and checks are set on
// engine.io and io.use() here.
import { INSTANCE_HEADER } from '../plugins/hub.ts'
import type { IncomingMessage } from 'node:http'
import { createRequire } from 'node:module'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify'
import { Server as Engine, type Socket as EngineConnection } from 'engine.io'
import { Server as SocketIOServer, type Socket } from 'socket.io'
import { PacketType } from 'socket.io-parser'
import { isLabError, LabError } from '../core/errors.ts'
import { TRANSPORT_INFO } from '../core/names.ts'
import type { Fanout } from '../core/hub.ts'
import type { Config } from '../config.ts'
import { ackOf, DEFAULT_ROOM, type ErrorMessage, type LogEntry, type Welcome } from '../core/protocol.ts'
import { assertRoom, assertText, parseClientMessage } from '../core/validate.ts'
import { dropEngineSocket, EngineBuffered, engineSocket, engineTcp, onUpgradeResponse } from './engine-io-internals.ts'
import type { WireStream } from '../wire/meter.ts'
import { meterSocketIoPayload } from '../wire/socket-io-payload.ts'
import { entryParser } from '../wire/socket-io-encoder.ts'
import { readName, readRoomQuery } from './query.ts'
import { CLOSE_GRACE_MS, PushSession, type PushOutput } from './push-session.ts'
import { AddressCounter } from '../core/limits.ts'
import { RequestLogger } from '../request-log.ts'

const transport = 'socket.io'
/** engine.io matches its path with the trailing slash. */
const PATH = `${TRANSPORT_INFO[transport].path}/`
const CLIENT_SCRIPTS = new Set(
  ['socket.io.js', 'socket.io.min.js', 'socket.io.js.map', 'socket.io.min.js.map'].map((file) => PATH + file),
)

type Dialect = 'lab' | 'notes'

export const socketIo: FastifyPluginAsync = async (app) => {
  const config = app.config
  const engine = new Engine({
    maxHttpBufferSize: config.bodyLimitBytes,
    pingInterval: config.sioPingIntervalMs,
    pingTimeout: config.sioPingTimeoutMs,
    // A backstop below io.use(): raw Engine.IO sessions that never connect a namespace still count.
    // The token is not refused here, though this is the first place that could: engine.io's refusal is a
    // bare 403 (a 400 for a WebSocket-only client) that socket.io-client reports without a reason, while
    // io.use() below answers connect_error with data.code, whatever channel the token came on. (A foreign
    // Origin never gets this far: the edge refuses it, 403 LAB_ERR_ORIGIN.)
    allowRequest: (req, callback) => {
      const over =
        config.maxClientsPerAddress > 0 && engineCount(app.clientAddress(req)) >= 2 * config.maxClientsPerAddress
      callback(over ? 'LAB_ERR_TOO_MANY_CONNECTIONS: too many Socket.IO connections from your address' : null, !over)
    },
  })
  // With several servers, a 101 says which one took the WebSocket, like every other answer.
  const instance = app.shared?.instance
  if (instance !== undefined)
    engine.on('headers', (headers: Record<string, string>) => {
      headers[INSTANCE_HEADER] = instance
    })
  engine.on('flush', corkFlush)
  engine.on('drain', uncorkFlush)
  const io = new SocketIOServer({ serveClient: false, connectTimeout: 10_000, parser: entryParser })
  io.bind(engine)

  const engines = new Map<string, number>()
  const engineCount = (address: string | undefined) => engines.get(address ?? 'unknown') ?? 0
  // The close listeners below are one function each for every session, which finds its own on the session:
  // a closure (and once()'s wrapper) per session would be kept as long as it is open.
  function engineClosed(this: LabEngineSocket): void {
    const address = this[kEngineAddress]!
    const left = engineCount(address) - 1
    if (left > 0) engines.set(address, left)
    else engines.delete(address)
  }
  engine.on('connection', (conn: LabEngineSocket) => {
    const address = app.clientAddress(conn.request)
    engines.set(address, engineCount(address) + 1)
    conn[kEngineAddress] = address
    conn.on('close', engineClosed)
  })

  // Each Engine.IO session, by its sid: the request that opened it, and its own counts on the wire meter
  // (its transport's too), for the page that opened it. Its welcome names the connection of that first
  // request; when the session upgrades, the inspector follows it to the upgrade and its 101. Every later
  // request or upgrade naming the sid is charged to its counts.
  const sessionsBySid = new Map<string, { first: IncomingMessage; stream: WireStream }>()
  function sessionClosed(this: EngineConnection): void {
    const { id } = engineSocket(this)
    sessionsBySid.get(id)?.stream.close()
    sessionsBySid.delete(id)
  }
  engine.on('connection', (conn: EngineConnection) => {
    const { id, request } = engineSocket(conn)
    const stream = app.wire.openStream(transport, request)
    sessionsBySid.set(id, { first: request, stream })
    meterSocketIoPayload(conn, stream.recorder)
    conn.on('close', sessionClosed)
  })
  const sessionOf = (req: IncomingMessage) =>
    sessionsBySid.get(new URLSearchParams((req.url ?? '').split('?')[1]).get('sid') ?? '')
  app.edge.claimRequests(
    (path) => path.startsWith(PATH) && !CLIENT_SCRIPTS.has(path),
    (req, res) => {
      sessionOf(req)?.stream.charge(req)
      engine.handleRequest(req, res)
    },
  )
  app.edge.claimUpgrades(
    (path) => path.startsWith(PATH),
    (req, socket, head) => {
      sessionOf(req)?.stream.charge(req)
      engine.handleUpgrade(req, socket, head)
    },
  )
  onUpgradeResponse(engine, (lines, req) => {
    app.wire.onUpgradeResponse(req, lines)
    const first = sessionOf(req)?.first
    if (first) app.wire.continued(first, req)
  })

  const clientDist = join(dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')), 'dist')
  for (const path of CLIENT_SCRIPTS) {
    app.get(path, async (_request, reply) => {
      const file = path.slice(PATH.length)
      void reply
        .type(file.endsWith('.map') ? 'application/json' : 'application/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=3600')
      return readFile(join(clientDist, file))
    })
  }

  // engine.io owns /socket.io/, so Fastify's hooks never run for it: every
  // check a connection must pass happens here, before it is accepted, and a
  // refusal is a connect_error whose data.code says why.
  const perAddress = new AddressCounter(config.maxClientsPerAddress, 'Socket.IO connections')
  function leaveAddress(this: LabEngineSocket): void {
    for (; this[kCounted]! > 0; this[kCounted]!--) perAddress.leave(this[kEngineAddress]!)
  }
  io.use((socket, next) => {
    try {
      const auth = authOf(socket)
      // Every channel: the auth object's token, the handshake's query, header or cookie.
      const principal = app.auth.authenticate(socket.conn.request, socket.handshake.auth.token)
      readName(auth.name, principal)
      const { room } = readRoomQuery({ room: auth.room, since: auth.since, epoch: auth.epoch })
      app.hub.assertRoomAvailable(room)
      const conn = socket.conn as unknown as LabEngineSocket
      // The same address the session was counted under; a second namespace on the session counts again.
      conn[kEngineAddress] = perAddress.enter(app.clientAddress(socket.conn.request))
      if (!conn[kCounted]) conn.on('close', leaveAddress)
      conn[kCounted] = (conn[kCounted] ?? 0) + 1
      next()
    } catch (error) {
      const lab = isLabError(error) ? error : new LabError('LAB_ERR_INTERNAL')
      next(Object.assign(new Error(lab.message), { data: { code: lab.code } }))
    }
  })

  // The hub delivers each entry once per room and dialect: one broadcast through Socket.IO's adapter, whose
  // rooms follow the hub's membership (joined/left, called by the hub when it changes), so the packet is encoded
  // once for all the sockets in it, from the JSON the hub already made. Then the slow-consumer policy.
  const rooms = io.of('/').adapter
  const fanouts = Object.fromEntries(
    DIALECTS.map((dialect): [Dialect, Fanout<Connection>] => [
      dialect,
      {
        deliver({ entry, except }, room, members) {
          const skip = except === undefined ? undefined : members.get(except)?.socket.id
          // What io.to(key).except(skip).emit(...) hands the adapter, without the two operators and the copies
          // of the arguments it makes on the way, on every delivery.
          rooms.broadcast(
            { type: PacketType.EVENT, data: eventFor(dialect, entry) },
            { rooms: new Set([roomKey(dialect, room)]), except: skip === undefined ? NOBODY : new Set([skip]) },
          )
          let slow: PushSession[] | undefined
          for (const { session } of members.values()) if (session.overBuffer()) (slow ??= []).push(session)
          if (slow) for (const session of slow) session.checkBuffer()
        },
        joined: ({ socket }, room) => void socket.join(roomKey(dialect, room)),
        left: ({ socket }, room) => void socket.leave(roomKey(dialect, room)),
      },
    ]),
  ) as Record<Dialect, Fanout<Connection>>

  io.on('connection', (socket: LabSocket) => {
    const auth = authOf(socket)
    const connection = new Connection(app, socket, auth.protocol === 'lab' ? 'lab' : 'notes')
    socket[kConnection] = connection
    // Two listeners shared by every socket (a closure each per connection would be kept as long as it is open).
    socket.onAny(socketEvent)
    socket.on('disconnect', socketDisconnect)
    connection.open(auth, fanouts[connection.dialect])
  })

  app.addHook('preClose', async () => {
    // A DISCONNECT packet first, so clients see "io server disconnect" and do not reconnect into a closing server.
    io.disconnectSockets(true)
    await io.close()
  })
}

// Engine.IO hands a flush's packets to ws one by one, and each became its own write into the kernel: corked for
// the flush, they leave in one. The server's 'flush' and 'drain' events come around that synchronous hand-over.
function corkFlush(conn: EngineConnection): void {
  engineTcp(engineSocket(conn))?.cork()
}

function uncorkFlush(conn: EngineConnection): void {
  engineTcp(engineSocket(conn))?.uncork()
}

const SETTLED: Promise<unknown> = Promise.resolve()
/** A broadcast that leaves nobody out (the adapter only reads it). */
const NOBODY = new Set<string>()
const kConnection = Symbol('sioConnection')
type LabSocket = Socket & { [kConnection]?: Connection }
const kEngineAddress = Symbol('sioEngineAddress')
const kCounted = Symbol('sioCounted')
/** An Engine.IO session with the address it is counted under, and how many of its sockets perAddress counts. */
type LabEngineSocket = EngineConnection & { [kEngineAddress]?: string; [kCounted]?: number }

/** Every event of every socket, known or not: each in its turn, through the dialect's handler. */
function socketEvent(this: LabSocket, event: unknown, ...args: unknown[]): void {
  this[kConnection]?.event(event, args)
}

function socketDisconnect(this: LabSocket, reason: string): void {
  this[kConnection]?.disconnected(reason)
}

type Handler = (connection: Connection, args: unknown[]) => Promise<unknown>

/** The protocol: the event name is the message type. */
function protocolHandler(type: 'join' | 'leave' | 'send'): Handler {
  return async (connection, args) => {
    const body = args[0]
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new LabError(
        'LAB_ERR_BAD_MESSAGE',
        `${type} takes one object argument, e.g. ${type === 'send' ? '{ room, text }' : '{ room }'}`,
      )
    }
    const { session, config } = connection
    // The decoded argument is this server's own object: the event name becomes its type in place.
    ;(body as Record<string, unknown>).type = type
    const message = parseClientMessage(body, { textMaxBytes: config.textMaxBytes })
    if (message.type === 'send') {
      const entry = await session.send(message.room, message)
      return ackOf(entry)
    }
    // The hub puts the socket into the dialect's Socket.IO room when it becomes a member, and out when it leaves.
    if (message.type === 'join') await session.join(message.room, message.after)
    else await session.leave(message.room)
    return undefined
  }
}

/** What each event does, shared by every connection; a LabError thrown becomes an `error` event (and the ack's answer). */
const HANDLERS = new Map<string, Handler>([
  ['join', protocolHandler('join')],
  ['leave', protocolHandler('leave')],
  ['send', protocolHandler('send')],
  // The class notes' dialect.
  [
    'client_message',
    async ({ session, config }, [text]) => {
      assertText(text, config)
      const entry = await session.send(DEFAULT_ROOM, { text })
      return ackOf(entry)
    },
  ],
  [
    'join_room',
    async ({ session }, [roomName]) => {
      assertRoom(roomName)
      await session.join(roomName)
    },
  ],
  [
    'leave_room',
    async ({ session }, [roomName]) => {
      assertRoom(roomName)
      await session.leave(roomName)
    },
  ],
  [
    'room_message',
    async ({ session, config }, [data]) => {
      const { room: roomName, message } = (typeof data === 'object' && data !== null ? data : {}) as {
        room?: unknown
        message?: unknown
      }
      assertRoom(roomName)
      assertText(message, config)
      // socket.to(room) in the notes: everyone in the room but the sender.
      const entry = await session.send(roomName, { text: message }, { exceptSender: true })
      return ackOf(entry)
    },
  ],
])

/**
 * One Socket.IO connection: its hub session, the way entries are emitted in
 * its dialect, and the queue its events wait in. An object with methods
 * rather than closures: it is what an idle connection keeps.
 */
class Connection implements PushOutput {
  readonly socket: LabSocket
  readonly dialect: Dialect
  readonly config: Config
  session!: PushSession
  private readonly app: FastifyInstance
  readonly log: FastifyBaseLogger
  private readonly bufferedBytes: EngineBuffered
  private greeted = false
  /** The first join, then each event in the order it came: a send never overtakes a join or another send. */
  private queue: Promise<unknown> = SETTLED
  /** Events queued or running, the first join included. */
  private waiting = 1

  constructor(app: FastifyInstance, socket: LabSocket, dialect: Dialect) {
    this.app = app
    this.socket = socket
    this.dialect = dialect
    this.config = app.config
    // Made into pino's child only when it writes a line (see request-log.ts): an idle connection keeps it.
    this.log = new RequestLogger(
      app.log,
      'sid',
      socket.id,
      app.wire.connectionId(socket.conn.request.socket),
      transport,
    ).asLogger()
    this.bufferedBytes = new EngineBuffered(engineSocket(socket.conn))
  }

  open(auth: Record<string, unknown>, fanout: Fanout<Connection>): void {
    const { app, socket } = this
    const name = readName(auth.name, app.auth.principalOf(socket.conn.request))
    this.session = new PushSession(app, transport, name, socket.conn.request, this, undefined, {
      fanout: fanout,
      sink: this,
    })
    try {
      const { room, cursor } = readRoomQuery({ room: auth.room, since: auth.since, epoch: auth.epoch })
      // Settled to nothing, not to the welcome: the queue's tail is kept while the connection is idle.
      this.queue = this.session
        .join(room, cursor)
        .then(
          () => {},
          (error: unknown) => this.refuse(error),
        )
        .finally(() => this.settle())
    } catch (error) {
      this.settle()
      this.refuse(error)
      return
    }
    this.log.info(
      { clientId: this.session.client.clientId, dialect: this.dialect, via: socket.conn.transport.name },
      'Socket.IO connected',
    )
  }

  /** Any event: a known one waits its turn in the queue; an unknown one is answered at once. */
  event(event: unknown, args: unknown[]): void {
    const handler = typeof event === 'string' ? HANDLERS.get(event) : undefined
    const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (value: unknown) => void) : undefined
    if (!handler) {
      this.unknown(event, ack)
      return
    }
    // Each event in turn: with nothing before it, it runs now; else after the last one.
    this.queue =
      this.waiting++ === 0
        ? this.run(handler, args, ack, event as string)
        : this.queue.then(() => this.run(handler, args, ack, event as string))
  }

  /** One event, counted against the rate as its turn comes (see websocket.ts); none after the close. */
  private async run(
    handler: Handler,
    args: unknown[],
    ack: ((value: unknown) => void) | undefined,
    event: string,
  ): Promise<void> {
    const session = this.session
    try {
      if (session.closed) return
      session.admit()
      const answer = await handler(this, args)
      ack?.(answer ?? { ok: true })
    } catch (error) {
      const message: ErrorMessage = session.fail(error, event)
      ack?.(message)
    } finally {
      this.settle()
    }
  }

  /** One less waiting; with none left, the queue's tail is the shared settled promise, not this connection's own. */
  private settle(): void {
    if (--this.waiting === 0) this.queue = SETTLED
  }

  disconnected(reason: string): void {
    this.session.close()
    this.log.info({ clientId: this.session.client.clientId, reason }, 'Socket.IO disconnected')
  }

  welcome(welcome: Welcome, backlog: LogEntry[]): void {
    if (this.dialect === 'lab') this.socket.emit('welcome', welcome)
    // The notes greet once, on connection; their join_room answers nothing to the joiner.
    else if (!this.greeted)
      this.socket.emit(
        'message',
        `Welcome to Transport Lab, ${welcome.name}! You are in room ${welcome.room}.`,
        welcome,
      )
    this.greeted = true
    for (const entry of backlog) this.socket.emit(...eventFor(this.dialect, entry))
  }

  error(error: ErrorMessage): void {
    this.socket.emit('error', error)
  }

  buffered(): number {
    return this.bufferedBytes.read()
  }

  close(error: LabError): void {
    this.socket.emit('error', { type: 'error', code: error.code, message: error.message })
    this.socket.disconnect(true)
    // A reader that stopped never takes the goodbye: after a grace period its buffers are dropped.
    const conn = engineSocket(this.socket.conn)
    setTimeout(() => dropEngineSocket(conn), CLOSE_GRACE_MS).unref()
  }

  /** The event name is whatever the client put first in the packet: not always a string. */
  private unknown(event: unknown, ack: ((value: unknown) => void) | undefined): void {
    const name = String(JSON.stringify(event) ?? event).slice(0, 40)
    let error = new LabError(
      'LAB_ERR_UNKNOWN_TYPE',
      `unknown event ${name}: expected ${[...HANDLERS.keys()].join(', ')}`,
    )
    try {
      this.session.admit()
    } catch (limited) {
      if (isLabError(limited)) error = limited
    }
    const message = this.session.fail(error, name)
    ack?.(message)
  }

  /** The checks in io.use() passed, but the room may have filled up since, or Redis gone: say so and let go. */
  private refuse(error: unknown): void {
    this.session.fail(error)
    this.session.close()
    this.socket.disconnect(true)
  }
}

function authOf(socket: Socket): Record<string, unknown> {
  return { ...socket.handshake.query, ...socket.handshake.auth }
}

const DIALECTS = ['lab', 'notes'] as const

function roomKey(dialect: Dialect, room: string): string {
  return `${dialect}:${room}`
}

/** An entry as each dialect's event: the protocol's object, or the notes' bare string first with the object second. */
function eventFor(dialect: Dialect, entry: LogEntry): [string, ...unknown[]] {
  if (dialect === 'lab') return [entry.type, entry]
  return ['server_message', entry.type === 'message' ? entry.text : noticeText(entry), entry]
}

function noticeText(notice: Exclude<LogEntry, { type: 'message' }>): string {
  if (notice.type === 'presence')
    return `${notice.joins} joined and ${notice.leaves} left room ${notice.room}: ${notice.memberCount} here`
  return notice.event === 'join'
    ? `${notice.who.name} joined room ${notice.room}`
    : `${notice.who.name} left room ${notice.room}`
}
