// Baseline: a chat relay written directly on Socket.IO, with nothing else. A
// client joins the room named in its auth; a `send` event is numbered, stamped
// and broadcast with io.to(room).emit('message'), which encodes the packet
// once for the whole room (and its WebSocket frame once, for every client on
// a WebSocket); the sender gets an ack when it asked for one. Payload is
// counted as Transport Lab's Socket.IO counts it: in, on each packet as it
// arrives; out, when engine.io flushes a connection's packets to its
// transport (its documented 'flush' event), each broadcast packet measured
// once (server/wire/socket-io-payload.ts, the same code), with the recorder
// each connection got when it opened.
// Engine.IO pings as Transport Lab's Socket.IO does (SIO_PING_INTERVAL_MS,
// SIO_PING_TIMEOUT_MS: the runner passes the Lab's values).
import { Server as Engine, type Socket as EngineConnection } from 'engine.io'
import { Server as SocketIOServer } from 'socket.io'
import { defaultConfig } from '../../server/config.ts'
import { Edge } from '../../server/edge.ts'
import { meterSocketIoPayload } from '../../server/wire/socket-io-payload.ts'
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
engine.on('connection', (conn: EngineConnection) => meterSocketIoPayload(conn, recorderOf(conn.request.socket)))

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
