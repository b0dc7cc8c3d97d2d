// Baseline: a chat relay written directly on Socket.IO, with nothing else. A
// client joins the room named in its auth; a `send` event is numbered, stamped
// and broadcast with io.to(room).emit('message'), which encodes the packet
// once for the whole room (and its WebSocket frame once, for every client on
// a WebSocket); the sender gets an ack when it asked for one. Payload is
// counted as Transport Lab's Socket.IO counts it: in, on each packet as it
// arrives; out, when engine.io flushes a connection's packets to its
// transport (its documented 'flush' event), each broadcast packet measured
// once, with the recorder each connection got when it opened.
// Engine.IO pings as Transport Lab's Socket.IO does (SIO_PING_INTERVAL_MS,
// SIO_PING_TIMEOUT_MS: the runner passes the Lab's values).
import { Server as Engine, type Socket as EngineConnection } from 'engine.io'
import { Server as SocketIOServer } from 'socket.io'
import { defaultConfig } from '../../server/config.ts'
import { Edge } from '../../server/edge.ts'
import { argumentBytes } from '../../server/transports/socket-io.ts'
import { listen, meterByRole, recorders, setting, toMessage, type BareSend } from './common.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'

const PATH = `${TRANSPORT_INFO['socket.io'].path}/`
const meter = meterByRole((path) => (path.startsWith(PATH) ? 'socket.io' : undefined))
const edge = new Edge(meter)
const server = edge.createServer((_req, res) => {
  res.statusCode = 404
  res.end()
})
const engine = new Engine({
  maxHttpBufferSize: setting('BODY_LIMIT_BYTES', defaultConfig.bodyLimitBytes),
  pingInterval: setting('SIO_PING_INTERVAL_MS', defaultConfig.sioPingIntervalMs),
  pingTimeout: setting('SIO_PING_TIMEOUT_MS', defaultConfig.sioPingTimeoutMs),
})
const io = new SocketIOServer({ serveClient: false })
io.bind(engine)
edge.claimRequests(
  (path) => path.startsWith(PATH),
  (req, res) => engine.handleRequest(req, res),
)
edge.claimUpgrades(
  (path) => path.startsWith(PATH),
  (req, socket, head) => engine.handleUpgrade(req, socket, head),
)
;(
  engine as unknown as {
    ws?: { on(event: 'headers', fn: (lines: string[], req: import('node:http').IncomingMessage) => void): void }
  }
).ws?.on('headers', (lines, req) => meter.onUpgradeResponse(req, lines))

const recorderOf = recorders(meter)
// A room broadcast hands every connection the same encoded string: its size is measured once.
let lastPacket = ''
let lastPacketBytes = 0
engine.on('connection', (conn: EngineConnection) => {
  const wire = recorderOf(conn.request.socket)
  // Payload in: an event's arguments, measured on the packet as it arrived (a connect or an ack carries none).
  conn.on('packet', (packet: { type: string; data?: unknown }) => {
    if (packet.type !== 'message' || typeof packet.data !== 'string') return
    const bytes = argumentBytes(packet.data)
    if (bytes > 0) wire.received(bytes)
  })
  conn.on('flush', (packets: Array<{ type: string; data?: unknown }>) => {
    let bytes = 0
    let messages = 0
    for (const packet of packets) {
      if (packet.type !== 'message' || typeof packet.data !== 'string') continue
      if (packet.data !== lastPacket) {
        lastPacket = packet.data
        lastPacketBytes = argumentBytes(packet.data)
      }
      if (lastPacketBytes === 0) continue
      bytes += lastPacketBytes
      messages++
    }
    if (messages > 0) wire.sent(bytes, messages)
  })
})

const seqs = new Map<string, number>()

io.on('connection', (socket) => {
  const auth = socket.handshake.auth as { room?: unknown }
  void socket.join(typeof auth.room === 'string' && auth.room ? auth.room : 'lobby')
  socket.on('send', (body: BareSend, ack?: (answer: unknown) => void) => {
    if (typeof body !== 'object' || body === null || typeof body.room !== 'string') return
    const message = toMessage(body, (seqs.get(body.room) ?? 0) + 1)
    if (!message) return
    seqs.set(body.room, message.seq)
    io.to(body.room).emit('message', message)
    if (typeof ack === 'function') ack({ type: 'ack', room: message.room, seq: message.seq })
  })
})

await listen(server)
