// Baseline: a chat relay written directly on Socket.IO, with nothing else. A
// client joins the room named in its auth; a `send` event is numbered, stamped
// and broadcast with io.to(room).emit('message'), which encodes the packet
// once for the whole room; the sender gets an ack when it asked for one.
// Engine.IO pings as Transport Lab's Socket.IO does (SIO_PING_INTERVAL_MS,
// SIO_PING_TIMEOUT_MS: the runner passes the Lab's values).
import { Server as Engine } from 'engine.io'
import { Server as SocketIOServer } from 'socket.io'
import { defaultConfig } from '../../server/config.ts'
import { Edge } from '../../server/edge.ts'
import { listen, meterByRole, setting, toMessage, type BareSend } from './common.ts'
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

const seqs = new Map<string, number>()
const tallyOf = new Map<string, string>()

io.on('connection', (socket) => {
  const tally = meter.transportOf(socket.conn.request.socket)
  tallyOf.set(socket.id, tally)
  const auth = socket.handshake.auth as { room?: unknown }
  void socket.join(typeof auth.room === 'string' && auth.room ? auth.room : 'lobby')
  socket.on('send', (body: BareSend, ack?: (answer: unknown) => void) => {
    meter.notePayload(tally, 'in', Buffer.byteLength(JSON.stringify(body) ?? ''))
    if (typeof body !== 'object' || body === null || typeof body.room !== 'string') return
    const message = toMessage({ ...body, type: 'send' }, (seqs.get(body.room) ?? 0) + 1)
    if (!message) return
    seqs.set(body.room, message.seq)
    const members = io.sockets.adapter.rooms.get(body.room)
    if (members) {
      const length = Buffer.byteLength(JSON.stringify(message))
      for (const id of members) meter.notePayload(tallyOf.get(id) ?? 'socket.io', 'out', length)
    }
    io.to(body.room).emit('message', message)
    ack?.({ type: 'ack', room: message.room, seq: message.seq })
  })
  socket.on('disconnect', () => tallyOf.delete(socket.id))
})

await listen(server)
