// Raw WebSocket: after one HTTP upgrade (the 101), both sides send frames
// whenever they like. Each protocol message is one text frame. A server frame
// costs 2 header bytes under 126 bytes of payload, 4 up to 64 KiB; a client
// frame 4 more for its mask. @fastify/websocket (registered in app.ts, on the
// upgrades the edge hands it) routes the upgrade through Fastify to the route
// below, so Fastify's hooks see it as they see any request.
import { INSTANCE_HEADER } from '../plugins/hub.ts'
import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import { isLabError, LabError } from '../core/errors.ts'
import { AddressCounter } from '../core/limits.ts'
import { TRANSPORT_INFO } from '../core/names.ts'
import type { LogEntry } from '../core/protocol.ts'
import { parseClientMessage } from '../core/validate.ts'
import { encode, type Encoded } from '../wire/payload.ts'
import { FrameLog, watchFrames } from '../wire/ws-frames.ts'
import { refuseWith } from '../edge.ts'
import { releaseUpgradeRequest } from './fastify-websocket-internals.ts'
import { batchWrites, flushIfFull } from './write-batch.ts'
import { CLOSE_GRACE_MS, PushSession } from './push-session.ts'
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
  const alive = new WeakMap<WebSocket, boolean>()

  // The ws README's heartbeat: a peer that has not answered the last ping by the next one is gone.
  const heartbeat = setInterval(() => {
    for (const socket of app.websocketServer.clients) {
      if (alive.get(socket) === false) {
        socket.terminate()
        continue
      }
      alive.set(socket, false)
      try {
        socket.ping()
      } catch {
        socket.terminate()
      }
    }
  }, app.config.wsHeartbeatMs)
  heartbeat.unref()
  app.addHook('onClose', async () => clearInterval(heartbeat))

  app.get(path, { websocket: true }, (socket, request) => {
    const log = request.log
    releaseUpgradeRequest(request, socket)
    // At once, so that nothing below can go unhandled.
    socket.on('error', (error) => log.warn({ err: error }, 'WebSocket error'))
    const query = request.query as Record<string, unknown>
    // This connection's own counts (and its transport's): the page that opened it reads them.
    const stream = app.wire.openStream(transport, request.raw)
    socket.once('close', () => stream.close())
    const wire = stream.recorder
    // Under permessage-deflate the payload is what the frames carry, compressed:
    // counted off the socket's frames (the meter reads their headers from the 101 on), while this code reports
    // the plain sizes. A socket the meter does not watch is read from here.
    const deflated = socket.extensions.includes('permessage-deflate')
    if (deflated && !app.wire.countFramePayload(request.raw, wire))
      watchFrames(request.raw.socket, Object.assign(new FrameLog(''), { recorder: wire }))

    const tcp = request.raw.socket
    const sendEncoded = (encoded: Encoded) => {
      if (socket.readyState !== socket.OPEN) return
      if (deflated) wire.sent(0, 0, encoded.bytes)
      else wire.sent(encoded.bytes)
      batchWrites(tcp)
      // One Buffer per entry for all receivers, sent as a text frame: no per-socket string conversion.
      socket.send(encoded.buffer, { binary: false })
      flushIfFull(tcp)
    }
    const closeWith = (error: LabError) => {
      sendEncoded(encode({ type: 'error', code: error.code, message: error.message }))
      socket.close(error.closeCode, error.code)
      // A reader that has stopped never completes the closing handshake; its buffers go after a grace period.
      setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref()
    }

    let release: (() => void) | undefined
    const releaseOnce = () => {
      release?.()
      release = undefined
    }
    let session: PushSession
    /** The join, then each message in the order it came: a send never overtakes the join or another send. */
    let queue: Promise<unknown>
    try {
      release = perAddress.acquire(app.clientAddress(request.raw))
      const name = readName(query.name, app.auth.principalOf(request.raw))
      const { room, cursor } = readRoomQuery(query)
      session = new PushSession(
        app,
        transport,
        name,
        request.raw,
        {
          welcome: (welcome, backlog: LogEntry[]) => {
            sendEncoded(encode(welcome))
            for (const entry of backlog) sendEncoded(encode(entry))
          },
          entry: (entry) => sendEncoded(encode(entry)),
          error: (error) => sendEncoded(encode(error)),
          buffered: () => socket.bufferedAmount,
          close: closeWith,
        },
        log,
      )
      const opened = session
      queue = opened.join(room, cursor).then(
        () => log.info({ clientId: opened.client.clientId }, 'WebSocket connected'),
        (error: unknown) => {
          opened.close()
          refuse(error)
        },
      )
    } catch (error) {
      refuse(error)
      return
    }
    function refuse(error: unknown): void {
      releaseOnce()
      if (!isLabError(error)) log.error({ err: error }, 'unexpected error while opening a WebSocket')
      closeWith(isLabError(error) ? error : new LabError('LAB_ERR_INTERNAL'))
    }

    alive.set(socket, true)
    socket.on('pong', () => alive.set(socket, true))

    // Each message in turn, counted against the rate as its turn comes: a flood's allowed messages are handled
    // (and echoed) before the one that closes it, as when nothing waits on Redis; a message after the close is not.
    const handle = async (buffer: Buffer, isBinary: boolean) => {
      if (session.closed) return
      let ref: string | undefined
      try {
        session.admit()
        if (isBinary) {
          session.end(
            new LabError('LAB_ERR_UNSUPPORTED', 'binary frames are not part of the protocol: send JSON text frames'),
          )
          return
        }
        const message = parseClientMessage(buffer, { textMaxBytes: app.config.textMaxBytes })
        ref = message.type === 'send' ? (message.clientMsgId ?? 'send') : message.type
        await session.handle(message)
      } catch (error) {
        session.fail(error, ref)
      }
    }
    socket.on('message', (data, isBinary) => {
      alive.set(socket, true)
      const buffer = data as Buffer
      if (deflated) wire.received(0, 0, buffer.byteLength)
      else wire.received(buffer.byteLength)
      if (session.closed) return
      queue = queue.then(() => handle(buffer, isBinary))
    })

    socket.on('close', (code) => {
      releaseOnce()
      session.close()
      log.info({ clientId: session.client.clientId, code }, 'WebSocket closed')
    })
  })
}
