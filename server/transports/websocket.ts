// Raw WebSocket: after one HTTP upgrade (the 101), both sides send frames
// whenever they like. Each protocol message is one text frame. A server frame
// costs 2 header bytes under 126 bytes of payload, 4 up to 64 KiB; a client
// frame 4 more for its mask.
import type { FastifyPluginAsync } from 'fastify'
import type { WebSocket } from 'ws'
import { LabError } from '../core/errors.ts'
import type { LogEntry } from '../core/protocol.ts'
import { parseClientMessage } from '../core/validate.ts'
import { encode, type Encoded } from '../wire/payload.ts'
import { readName, readRoomQuery } from './http-common.ts'
import { PushSession } from './push-session.ts'

const transport = 'websocket'
/** A socket that has this much unsent data is closed; its client resumes after the last seq it saw. */
const SLOW_CONSUMER_BYTES = 1 << 20

export const websocket: FastifyPluginAsync = async (app) => {
  // permessage-deflate is a per-connection choice (?compress=1|0, default
  // WS_COMPRESSION): browsers always offer the extension, so the server
  // decides by hiding the offer from ws when a client did not ask for it.
  app.edge.claimUpgrades((path) => path === '/ws', (req, socket, head) => {
    const compress = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('compress')
    if (compress === '0' || (compress !== '1' && !app.config.wsCompression)) delete req.headers['sec-websocket-extensions']
    app.edge.fastifyUpgrades.emit('upgrade', req, socket, head)
  })
  // ws hands over the exact 101 lines it is about to write: the inspector shows them.
  app.websocketServer.on('headers', (lines: string[], req) => app.wire.onUpgradeResponse(req, lines))
  const wire = app.wire.recorder(transport)
  const alive = new WeakMap<WebSocket, boolean>()

  const heartbeat = setInterval(() => {
    for (const socket of app.websocketServer.clients) {
      if (alive.get(socket) === false) {
        socket.terminate()
        continue
      }
      alive.set(socket, false)
      socket.ping()
    }
  }, app.config.wsHeartbeatMs)
  heartbeat.unref()
  app.addHook('onClose', async () => clearInterval(heartbeat))

  app.get('/ws', { websocket: true }, (socket, request) => {
    const log = request.log
    const sendEncoded = (encoded: Encoded) => {
      if (socket.readyState !== socket.OPEN) return
      wire.sent(encoded.bytes)
      // One Buffer per entry for all receivers, sent as a text frame: no per-socket string conversion.
      socket.send(encoded.buffer, { binary: false })
      if (socket.bufferedAmount > SLOW_CONSUMER_BYTES) {
        log.warn({ buffered: socket.bufferedAmount }, 'WebSocket client too slow; closing')
        socket.close(1013, 'too slow: reconnect and resume')
      }
    }

    let session: PushSession
    try {
      const q = request.query as Record<string, unknown>
      const name = readName(q.name)
      const { room, cursor } = readRoomQuery(q)
      session = new PushSession(app, transport, name, {
        welcome: (welcome, backlog: LogEntry[]) => {
          sendEncoded(encode(welcome))
          for (const entry of backlog) sendEncoded(encode(entry))
        },
        entry: (entry) => sendEncoded(encode(entry)),
        error: (error) => sendEncoded(encode(error)),
      }, log)
      session.join(room, cursor)
    } catch (error) {
      const lab = error instanceof LabError ? error : new LabError('LAB_ERR_INTERNAL')
      sendEncoded(encode({ type: 'error', code: lab.code, message: lab.message }))
      socket.close(lab.closeCode, lab.code)
      return
    }

    alive.set(socket, true)
    socket.on('pong', () => alive.set(socket, true))
    log.info({ clientId: session.client.clientId }, 'WebSocket connected')

    socket.on('message', (data, isBinary) => {
      alive.set(socket, true)
      const buffer = data as Buffer
      wire.received(buffer.byteLength)
      if (isBinary) {
        session.fail(new LabError('LAB_ERR_UNSUPPORTED', 'binary frames are not part of the protocol: send JSON text frames'))
        socket.close(1003, 'LAB_ERR_UNSUPPORTED')
        return
      }
      let ref: string | undefined
      try {
        const message = parseClientMessage(buffer, { textMaxBytes: app.config.textMaxBytes })
        ref = message.type === 'send' ? message.clientMsgId ?? 'send' : message.type
        session.handle(message)
      } catch (error) {
        session.fail(error, ref)
      }
    })

    // @fastify/websocket routes the upgrade through Fastify with a stand-in
    // ServerResponse attached to the TCP socket, and its 'error' listener closes
    // over Fastify's Request and Reply: both would live as long as the
    // connection. Detach the one and replace the other with a listener that
    // needs only the logger.
    const tcp = request.raw.socket as typeof request.raw.socket & { _httpMessage?: { detachSocket(s: unknown): void } | null }
    tcp._httpMessage?.detachSocket(tcp)
    socket.removeAllListeners('error')
    socket.on('error', (error) => log.warn({ err: error, clientId: session.client.clientId }, 'WebSocket error'))

    socket.on('close', (code) => {
      session.close()
      log.info({ clientId: session.client.clientId, code }, 'WebSocket closed')
    })
  })
}
