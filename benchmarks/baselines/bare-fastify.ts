// Baseline: the same URLs as Transport Lab's three HTTP transports, each a
// bare Fastify route over an in-memory bounded log per room:
//   GET /poll?room&since        what came after `since`, at once
//   GET /long-poll?room&since   the same, held until something arrives or the timeout passes
//   GET /sse?room               one text/event-stream response, an event per message
//   POST /poll | /long-poll | /sse   {type:'send', room, text, sentAt?, clientMsgId?} -> ack
// No sessions, presence, validation schemas or logging: the floor that the
// HTTP transports are compared with. A message is serialized once when it is
// stored; a response joins the stored JSON of its entries, and an SSE event
// is written once as text and the same string goes to every stream. Each
// request (each stream) fetches the recorder of its tally once. History
// limit, long-poll timeout and SSE heartbeat come from the same settings as
// Transport Lab's.
import type { ServerResponse } from 'node:http'
import Fastify from 'fastify'
import type { WireRecorder } from '../../server/wire/meter.ts'
import { defaultConfig } from '../../server/config.ts'
import { Edge } from '../../server/edge.ts'
import { listen, meterByRole, recorders, setting, toMessage, type BareMessage, type BareSend } from './common.ts'
import { TRANSPORT_INFO, type TransportName } from '../../server/core/names.ts'

const SERVED = ['short-polling', 'long-polling', 'sse'] as const satisfies readonly TransportName[]
const PATHS: Record<string, string> = Object.fromEntries(SERVED.map((t) => [TRANSPORT_INFO[t].path, t]))
const historyLimit = setting('HISTORY_LIMIT', defaultConfig.historyLimit)
const longPollTimeoutMs = setting('LONG_POLL_TIMEOUT_MS', defaultConfig.longPollTimeoutMs)
const sseHeartbeatMs = setting('SSE_HEARTBEAT_MS', defaultConfig.sseHeartbeatMs)

const meter = meterByRole((path) => PATHS[path])
const recorderOf = recorders(meter)
const edge = new Edge(meter)
const app = Fastify({
  serverFactory: (handler) => edge.createServer(handler),
  bodyLimit: setting('BODY_LIMIT_BYTES', defaultConfig.bodyLimitBytes),
  logger: false,
})

interface Stored {
  message: BareMessage
  json: string
  bytes: number
}
interface Room {
  /** The room's name as JSON, for every batch. */
  nameJson: string
  seq: number
  log: Stored[]
  waiters: Set<() => void>
  streams: Set<{ res: ServerResponse; wire: WireRecorder }>
}
const rooms = new Map<string, Room>()

function room(name: string): Room {
  let found = rooms.get(name)
  if (!found) {
    found = { nameJson: JSON.stringify(name), seq: 0, log: [], waiters: new Set(), streams: new Set() }
    rooms.set(name, found)
  }
  return found
}

function after(r: Room, since: number): { recovered: boolean; entries: Stored[] } {
  const first = r.log[0]?.message.seq ?? r.seq + 1
  if (since > r.seq || since < first - 1) return { recovered: false, entries: r.log }
  return { recovered: true, entries: r.log.slice(since - first + 1) }
}

function batch(wire: WireRecorder, r: Room, read: { recovered: boolean; entries: Stored[] }): string {
  let payload = 0
  for (const entry of read.entries) payload += entry.bytes
  wire.sent(payload, read.entries.length)
  return `{"type":"batch","room":${r.nameJson},"seq":${r.seq},"recovered":${read.recovered},"entries":[${read.entries.map((e) => e.json).join(',')}]}`
}

interface Query {
  room?: string
  since?: string
  timeout?: string
}

app.get(TRANSPORT_INFO['short-polling'].path, async (request, reply) => {
  const q = request.query as Query
  const r = room(q.room || 'lobby')
  void reply.type('application/json; charset=utf-8')
  return batch(recorderOf(request.raw.socket), r, after(r, Number(q.since ?? 0)))
})

app.get(TRANSPORT_INFO['long-polling'].path, async (request, reply) => {
  const q = request.query as Query
  const since = Number(q.since ?? 0)
  const r = room(q.room || 'lobby')
  const wire = recorderOf(request.raw.socket)
  void reply.type('application/json; charset=utf-8')
  const first = after(r, since)
  if (first.entries.length > 0 || !first.recovered) return batch(wire, r, first)
  return new Promise<string>((resolve) => {
    const release = meter.hold(meter.transportOf(request.raw.socket))
    const wake = () => {
      r.waiters.delete(wake)
      clearTimeout(timer)
      release()
      resolve(batch(wire, r, after(r, since)))
    }
    const timer = setTimeout(wake, Number(q.timeout ?? longPollTimeoutMs))
    r.waiters.add(wake)
    reply.raw.once('close', () => {
      if (reply.raw.writableFinished || !r.waiters.delete(wake)) return
      clearTimeout(timer)
      release()
    })
  })
})

app.get(TRANSPORT_INFO.sse.path, async (request, reply) => {
  const r = room((request.query as Query).room || 'lobby')
  const tally = meter.transportOf(request.raw.socket)
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  })
  res.write(': open\n\n')
  const stream = { res, wire: recorderOf(request.raw.socket) }
  r.streams.add(stream)
  const release = meter.hold(tally)
  const heartbeat = setInterval(() => res.write(': ping\n\n'), sseHeartbeatMs)
  res.once('close', () => {
    clearInterval(heartbeat)
    release()
    r.streams.delete(stream)
  })
})

const post = async (
  request: { body: unknown; headers: Record<string, unknown>; raw: { socket: import('node:net').Socket } },
  reply: import('fastify').FastifyReply,
) => {
  const wire = recorderOf(request.raw.socket)
  wire.received(Number(request.headers['content-length'] ?? 0))
  const body = (request.body ?? {}) as BareSend
  const r = body.type === 'send' && typeof body.room === 'string' ? room(body.room) : undefined
  const message = r && toMessage(body, r.seq + 1)
  if (!r || !message) return reply.code(400).send({ type: 'error', code: 'BAD_MESSAGE' })
  const json = JSON.stringify(message)
  const stored: Stored = { message, json, bytes: Buffer.byteLength(json) }
  r.seq = message.seq
  r.log.push(stored)
  // shift(), not splice(0, n): V8 trims an array's front in place for shift, where a splice moves every entry
  // left (about 2 µs a send at 500 entries, which the baseline's figures would carry and the lab's do not).
  while (r.log.length > historyLimit) r.log.shift()
  if (r.streams.size > 0) {
    const event = `id: ${message.seq}\ndata: ${json}\n\n`
    for (const stream of r.streams) {
      stream.wire.sent(stored.bytes)
      stream.res.write(event)
    }
  }
  for (const wake of [...r.waiters]) wake()
  const ack = `{"type":"ack","room":${r.nameJson},"seq":${message.seq}}`
  wire.sent(Buffer.byteLength(ack))
  return reply.type('application/json; charset=utf-8').send(ack)
}
for (const path of Object.keys(PATHS)) app.post(path, post)

await app.ready()
await listen(app.server)
