// Server-Sent Events: one long HTTP response the server keeps writing to.
// Each entry is an event whose id is its seq, so a browser that reconnects
// sends Last-Event-ID and gets exactly what it missed. Server to client only:
// sending is a POST, like the polling transports.
import type { FastifyPluginAsync } from 'fastify'
import type { LogEntry } from '../core/protocol.ts'
import { encode } from '../wire/payload.ts'
import { acceptJsonAsText, handlePost, HttpSessions, readName, readRoomQuery } from './http-common.ts'

const transport = 'sse'
/** A stream whose client reads slower than this much unsent data is closed; it resumes with Last-Event-ID. */
const SLOW_CONSUMER_BYTES = 1 << 20
const RECONNECT_MS = 2000

export const sse: FastifyPluginAsync = async (app) => {
  acceptJsonAsText(app)
  const wire = app.wire.recorder(transport)
  const sessions = new HttpSessions(app)
  const streams = new Set<() => void>()

  app.get('/sse', async (request, reply) => {
    const lastEventId = request.headers['last-event-id']
    const { room, cursor } = readRoomQuery(request.query, typeof lastEventId === 'string' && lastEventId ? lastEventId : undefined)
    const name = readName((request.query as Record<string, unknown>).name)

    reply.hijack()
    const res = reply.raw
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      // Tells nginx-style proxies not to buffer the stream.
      'x-accel-buffering': 'no',
    })

    const write = (frame: string, payloadBytes: number) => {
      wire.sent(payloadBytes)
      res.write(frame)
      if (res.writableLength > SLOW_CONSUMER_BYTES) {
        request.log.warn({ buffered: res.writableLength }, 'SSE client too slow; closing its stream')
        res.end()
      }
    }
    const writeEntry = (entry: LogEntry) => {
      const { json, bytes } = encode(entry)
      const event = entry.type === 'notice' ? 'event: notice\n' : ''
      write(`id: ${entry.seq}\n${event}data: ${json}\n\n`, bytes)
    }

    const client = app.hub.connect({ name, transport, deliver: writeEntry })
    const session = sessions.issue(client)
    const { welcome, backlog } = app.hub.join(client.clientId, room, cursor)
    const welcomeJson = encode({ ...welcome, session })
    write(`retry: ${RECONNECT_MS}\nevent: welcome\ndata: ${welcomeJson.json}\n\n`, welcomeJson.bytes)
    for (const entry of backlog) writeEntry(entry)
    request.log.info({ clientId: client.clientId, room, resumed: cursor?.seq, recovered: welcome.recovered }, 'SSE stream opened')

    const release = app.wire.hold(transport)
    const heartbeat = setInterval(() => res.write(': ping\n\n'), app.config.sseHeartbeatMs)
    const end = () => {
      if (!res.writableEnded) res.end()
    }
    streams.add(end)
    res.once('close', () => {
      streams.delete(end)
      clearInterval(heartbeat)
      release()
      sessions.revoke(session)
      app.hub.disconnect(client.clientId)
      request.log.info({ clientId: client.clientId }, 'SSE stream closed')
    })
  })

  app.post('/sse', handlePost(app, {
    transport,
    sessions,
    joinByPost: false,
    leaseMs: app.config.httpSessionTtlMs,
  }))

  app.addHook('preClose', async () => {
    for (const end of [...streams]) end()
  })
}
