// Baseline: a chat relay written directly on `ws`, with nothing else. A client
// joins the room in its URL; a `send` frame is parsed, numbered, serialized
// once and sent to every socket in its room. Heartbeat as in the ws README
// (ping, isAlive, terminate), at the same interval as Transport Lab's.
import { WebSocketServer, type WebSocket } from 'ws'
import { defaultConfig } from '../../server/config.ts'
import { Edge } from '../../server/edge.ts'
import { listen, meterByRole, setting, toMessage, type BareSend } from './common.ts'
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
  sockets: Set<WebSocket>
}
const rooms = new Map<string, Room>()
const tallyOf = new WeakMap<WebSocket, string>()
const alive = new WeakMap<WebSocket, boolean>()

wss.on('connection', (ws, req) => {
  const tally = meter.transportOf(req.socket)
  tallyOf.set(ws, tally)
  const roomName = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('room') || 'lobby'
  let room = rooms.get(roomName)
  if (!room) rooms.set(roomName, (room = { seq: 0, sockets: new Set() }))
  room.sockets.add(ws)
  alive.set(ws, true)
  ws.on('pong', () => alive.set(ws, true))
  ws.on('message', (data, isBinary) => {
    const bytes = (data as Buffer).byteLength
    meter.notePayload(tally, 'in', bytes)
    if (isBinary) return
    let body: BareSend
    try {
      body = JSON.parse((data as Buffer).toString()) as BareSend
    } catch {
      return
    }
    const target = typeof body.room === 'string' ? rooms.get(body.room) : undefined
    if (!target) return
    const message = toMessage(body, target.seq + 1)
    if (!message) return
    target.seq = message.seq
    const json = JSON.stringify(message)
    const length = Buffer.byteLength(json)
    for (const peer of target.sockets) {
      meter.notePayload(tallyOf.get(peer)!, 'out', length)
      peer.send(json)
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
