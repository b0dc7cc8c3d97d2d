// Baseline: a chat relay written directly on `ws`, with nothing else. A client
// joins the room in its URL; a `send` frame is parsed, numbered, serialized
// once into a Buffer, and that one Buffer goes to every open socket in its
// room as a text frame (ws frames it without converting or copying it per
// socket). Payload is counted once per frame with the recorder each socket
// got when it connected. Heartbeat as in the ws README (ping, isAlive,
// terminate), at the same interval as Transport Lab's.
import { WebSocket, WebSocketServer } from 'ws'
import type { WireRecorder } from '../../server/wire/meter.ts'
import { defaultConfig } from '../../server/config.ts'
import { Edge } from '../../server/edge.ts'
import { listen, meterByRole, recorders, setting, toMessage, type BareSend } from './common.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'

const meter = meterByRole((path) => (path === TRANSPORT_INFO.websocket.path ? 'websocket' : undefined))
const edge = new Edge(meter)
const server = edge.createServer((_req, res) => {
  res.statusCode = 404
  res.end()
})
const wss = new WebSocketServer({
  noServer: true,
  maxPayload: setting('BODY_LIMIT_BYTES', defaultConfig.bodyLimitBytes),
})
wss.on('headers', (lines, req) => meter.onUpgradeResponse(req, lines))
edge.claimUpgrades(
  () => true,
  (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req)),
)

interface Room {
  seq: number
  /** Each socket with the recorder of its tally, fetched when it connected. */
  sockets: Map<WebSocket, WireRecorder>
}
const rooms = new Map<string, Room>()
const recorderOf = recorders(meter)
const alive = new WeakMap<WebSocket, boolean>()

wss.on('connection', (ws, req) => {
  const wire = recorderOf(req.socket)
  const roomName = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('room') || 'lobby'
  let room = rooms.get(roomName)
  if (!room) rooms.set(roomName, (room = { seq: 0, sockets: new Map() }))
  room.sockets.set(ws, wire)
  alive.set(ws, true)
  ws.on('pong', () => alive.set(ws, true))
  ws.on('message', (data, isBinary) => {
    const frame = data as Buffer
    wire.received(frame.byteLength)
    if (isBinary) return
    let body: BareSend
    try {
      body = JSON.parse(frame.toString()) as BareSend
    } catch {
      return
    }
    const target = body.type === 'send' && typeof body.room === 'string' ? rooms.get(body.room) : undefined
    if (!target) return
    const message = toMessage(body, target.seq + 1)
    if (!message) return
    target.seq = message.seq
    const buffer = Buffer.from(JSON.stringify(message))
    const bytes = buffer.byteLength
    for (const [peer, peerWire] of target.sockets) {
      if (peer.readyState !== WebSocket.OPEN) continue
      peerWire.sent(bytes)
      peer.send(buffer, { binary: false })
    }
  })
  ws.on('close', () => room.sockets.delete(ws))
})

const heartbeat = setInterval(
  () => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate()
        continue
      }
      alive.set(ws, false)
      ws.ping()
    }
  },
  setting('WS_HEARTBEAT_MS', defaultConfig.wsHeartbeatMs),
)
heartbeat.unref()

await listen(server)
