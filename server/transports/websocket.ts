// Raw WebSocket: after one HTTP upgrade (the 101), both sides send frames
// whenever they like. Each protocol message is one text frame. A server frame
// costs 2 header bytes under 126 bytes of payload, 4 up to 64 KiB; a client
// frame 4 more for its mask. @fastify/websocket (registered in app.ts, on the
// upgrades the edge hands it) routes the upgrade through Fastify to the route
// below, so Fastify's hooks see it as they see any request.
import { INSTANCE_HEADER } from '../plugins/hub.ts'
import type { FastifyBaseLogger, FastifyInstance, FastifyPluginAsync } from 'fastify'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { isLabError, LabError } from '../core/errors.ts'
import { AddressCounter } from '../core/limits.ts'
import { TRANSPORT_INFO } from '../core/names.ts'
import type { ErrorMessage, LogEntry, Welcome } from '../core/protocol.ts'
import { parseClientMessage } from '../core/validate.ts'
import type { WireRecorder, WireStream } from '../wire/meter.ts'
import { encode, type Encoded } from '../wire/payload.ts'
import { FrameLog, watchFrames } from '../wire/ws-frames.ts'
import { refuseWith } from '../edge.ts'
import { releaseUpgradeRequest } from './fastify-websocket-internals.ts'
import { CLOSE_GRACE_MS, PushSession, type PushOutput } from './push-session.ts'
import { batchWrites, flushIfFull } from './write-batch.ts'
import { readName, readRoomQuery } from './query.ts'

const transport = 'websocket'
const { path } = TRANSPORT_INFO[transport]

export const websocket: FastifyPluginAsync = async (app) => {
  // permessage-deflate is a per-connection choice (?compress=1|0, default
  // WS_COMPRESSION): browsers always offer the extension, so the server
  // decides by hiding the offer from ws when a client did not ask for it.
  app.edge.claimUpgrades(
    (requested) => requested === path,
    (req, socket, head) => {
      const compress = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('compress')
      if (compress === '0' || (compress !== '1' && !app.config.wsCompression))
        delete req.headers['sec-websocket-extensions']
      // The token is checked before ws answers: a client without a good one gets a 401 and never a 101.
      try {
        app.auth.authenticate(req)
      } catch (error) {
        if (!isLabError(error)) throw error
        refuseWith(socket, error)
        return
      }
      app.edge.fastifyUpgrades.emit('upgrade', req, socket, head)
    },
  )
  // ws hands over the exact 101 lines it is about to write: the inspector shows them.
  app.websocketServer.on('headers', (lines: string[], req) => {
    if (app.shared) lines.push(`${INSTANCE_HEADER}: ${app.shared.instance}`)
    app.wire.onUpgradeResponse(req, lines)
  })
  const perAddress = new AddressCounter(app.config.maxClientsPerAddress, 'WebSocket connections')

  // The ws README's heartbeat: a peer that has not answered the last ping by the next one is gone.
  const heartbeat = setInterval(() => {
    for (const socket of app.websocketServer.clients as Set<LabSocket>) {
      if (socket[kAlive] === false) {
        socket.terminate()
        continue
      }
      socket[kAlive] = false
      try {
        socket.ping()
      } catch {
        socket.terminate()
      }
    }
  }, app.config.wsHeartbeatMs)
  heartbeat.unref()
  app.addHook('onClose', async () => clearInterval(heartbeat))

  app.get(path, { websocket: true }, (ws, request) => {
    const socket = ws as LabSocket
    releaseUpgradeRequest(request, socket)
    const connection = new Connection(app, socket, request.raw, request.log, perAddress)
    socket[kConnection] = connection
    // At once, so that nothing below can go unhandled. The listeners are the same functions for every socket:
    // an idle connection keeps its Connection, not a closure per event.
    socket.on('error', socketError)
    // This connection's own counts (and its transport's): the page that opened it reads them.
    // Under permessage-deflate the payload is what the frames carry, compressed:
    // counted off the socket's frames (the meter reads their headers from the 101 on), while this code reports
    // the plain sizes. A socket the meter does not watch is read from here.
    if (connection.deflated && !app.wire.countFramePayload(request.raw, connection.wire))
      watchFrames(request.raw.socket, Object.assign(new FrameLog(''), { recorder: connection.wire }))
    connection.open(request.query as Record<string, unknown>, request.raw)
    socket[kAlive] = true
    socket.on('pong', socketPong)
    socket.on('message', socketMessage)
    socket.on('close', socketClosed)
  })
}

const SETTLED: Promise<unknown> = Promise.resolve()
const kConnection = Symbol('wsConnection')
const kAlive = Symbol('wsAlive')
type LabSocket = WebSocket & { [kConnection]?: Connection; [kAlive]?: boolean }

function socketError(this: LabSocket, error: Error): void {
  this[kConnection]?.log.warn({ err: error }, 'WebSocket error')
}

function socketPong(this: LabSocket): void {
  this[kAlive] = true
}

function socketMessage(this: LabSocket, data: unknown, isBinary: boolean): void {
  this[kAlive] = true
  this[kConnection]!.message(data as Buffer, isBinary)
}

function socketClosed(this: LabSocket, code: number): void {
  this[kConnection]!.closed(code)
}

/**
 * One WebSocket's chat: its hub session and what it needs to frame, count and
 * close. A class rather than closures in the route: an idle connection keeps
 * this for as long as it lives, and under tsx each named closure also keeps a
 * property dictionary for its name.
 */
class Connection implements PushOutput {
  readonly log: FastifyBaseLogger
  readonly deflated: boolean
  private readonly app: FastifyInstance
  private readonly socket: LabSocket
  private readonly stream: WireStream
  /** The TCP connection under the socket: its frames of one turn are written together (write-batch.ts). */
  private readonly tcp: Socket
  private readonly perAddress: AddressCounter
  /** Its address's key in perAddress while it counts there. */
  private counted: string | undefined
  private session!: PushSession
  /** The join, then each message in the order it came: a send never overtakes the join or another send. */
  private queue: Promise<unknown> = SETTLED
  /** Messages queued or being handled, the join included. */
  private waiting = 1

  constructor(
    app: FastifyInstance,
    socket: LabSocket,
    raw: IncomingMessage,
    log: FastifyBaseLogger,
    perAddress: AddressCounter,
  ) {
    this.app = app
    this.socket = socket
    this.log = log
    this.perAddress = perAddress
    this.tcp = raw.socket
    this.deflated = socket.extensions.includes('permessage-deflate')
    this.stream = app.wire.openStream(transport, raw)
  }

  /** Its stream's recorder, the stream itself: not a field of its own (8 bytes of every idle connection). */
  get wire(): WireRecorder {
    return this.stream.recorder
  }

  open(query: Record<string, unknown>, raw: IncomingMessage): void {
    const { app, log } = this
    try {
      this.counted = this.perAddress.enter(app.clientAddress(raw))
      const name = readName(query.name, app.auth.principalOf(raw))
      const { room, cursor } = readRoomQuery(query)
      this.session = new PushSession(app, transport, name, raw, this)
      const opened = this.session
      this.queue = opened
        .join(room, cursor)
        .then(
          () => log.info({ clientId: opened.client.clientId }, 'WebSocket connected'),
          (error: unknown) => {
            opened.close()
            this.refuse(error)
          },
        )
        .finally(() => this.settle())
    } catch (error) {
      this.refuse(error)
    }
  }

  welcome(welcome: Welcome, backlog: LogEntry[]): void {
    this.sendEncoded(encode(welcome))
    for (const entry of backlog) this.sendEncoded(encode(entry))
  }

  entry(entry: LogEntry): void {
    this.sendEncoded(encode(entry))
  }

  error(error: ErrorMessage): void {
    this.sendEncoded(encode(error))
  }

  buffered(): number {
    return this.socket.bufferedAmount
  }

  close(error: LabError): void {
    this.sendEncoded(encode({ type: 'error', code: error.code, message: error.message }))
    this.socket.close(error.closeCode, error.code)
    // A reader that has stopped never completes the closing handshake; its buffers go after a grace period.
    const socket = this.socket
    setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref()
  }

  message(buffer: Buffer, isBinary: boolean): void {
    // A connection refused while it opened reads nothing more.
    if (!this.session) return
    if (this.deflated) this.wire.received(0, 0, buffer.byteLength)
    else this.wire.received(buffer.byteLength)
    if (this.session.closed) return
    // With nothing before it, a message is handled now; else after the last one.
    this.queue =
      this.waiting++ === 0 ? this.handle(buffer, isBinary) : this.queue.then(() => this.handle(buffer, isBinary))
  }

  closed(code: number): void {
    this.stream.close()
    this.releaseOnce()
    if (!this.session) return
    this.session.close()
    this.log.info({ clientId: this.session.client.clientId, code }, 'WebSocket closed')
  }

  private sendEncoded(encoded: Encoded): void {
    if (this.socket.readyState !== this.socket.OPEN) return
    if (this.deflated) this.wire.sent(0, 0, encoded.bytes)
    else this.wire.sent(encoded.bytes)
    batchWrites(this.tcp)
    // One Buffer per entry for all receivers, sent as a text frame: no per-socket string conversion.
    this.socket.send(encoded.buffer, { binary: false })
    flushIfFull(this.tcp)
  }

  /** One less waiting; with none left, the queue's tail is the shared settled promise, not this connection's own. */
  private settle(): void {
    if (--this.waiting === 0) this.queue = SETTLED
  }

  private releaseOnce(): void {
    if (this.counted === undefined) return
    this.perAddress.leave(this.counted)
    this.counted = undefined
  }

  private refuse(error: unknown): void {
    this.releaseOnce()
    if (!isLabError(error)) this.log.error({ err: error }, 'unexpected error while opening a WebSocket')
    this.close(isLabError(error) ? error : new LabError('LAB_ERR_INTERNAL'))
  }

  // Each message in turn, counted against the rate as its turn comes: a flood's allowed messages are handled
  // (and echoed) before the one that closes it, as when nothing waits on Redis; a message after the close is not.
  private async handle(buffer: Buffer, isBinary: boolean): Promise<void> {
    const session = this.session
    let ref: string | undefined
    try {
      if (session.closed) return
      session.admit()
      if (isBinary) {
        session.end(
          new LabError('LAB_ERR_UNSUPPORTED', 'binary frames are not part of the protocol: send JSON text frames'),
        )
        return
      }
      const message = parseClientMessage(buffer, { textMaxBytes: this.app.config.textMaxBytes })
      ref = message.type === 'send' ? (message.clientMsgId ?? 'send') : message.type
      await session.handle(message)
    } catch (error) {
      session.fail(error, ref)
    } finally {
      this.settle()
    }
  }
}
