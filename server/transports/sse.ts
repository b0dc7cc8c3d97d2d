// Server-Sent Events: one long HTTP response the server keeps writing to.
// Each entry is an event whose id is the entry's id, EPOCH-SEQ, so a browser
// that reconnects sends Last-Event-ID naming both the log and the position,
// and gets exactly what it missed (or recovered: false after a restart).
// Server to client only: sending is a POST, like the polling transports.
//
// With no way for the client to answer on the stream, a reader that stopped
// looks like a quiet one. So the server ends each stream after
// SSE_STREAM_MAX_MS: EventSource reopens it at once with Last-Event-ID and
// carries on as the same member, a dead reader does not and leaves.
import type { FastifyPluginAsync } from 'fastify'
import type { ServerResponse } from 'node:http'
import { TRANSPORT_INFO } from '../core/names.ts'
import { LabError } from '../core/errors.ts'
import { AddressCounter } from '../core/limits.ts'
import type { LogEntry, Welcome } from '../core/protocol.ts'
import { encode } from '../wire/payload.ts'
import { acceptJsonAsText, handlePost, HttpSessions } from './http-common.ts'
import { readName, readRoomQuery } from './query.ts'
import { CLOSE_GRACE_MS, PushSession } from './push-session.ts'

const transport = 'sse'
const { path } = TRANSPORT_INFO[transport]
/** The reconnection delay EventSource uses after a failure. */
const RECONNECT_MS = 2000
/** After a stream the server ended on purpose the browser may come back at once. */
const RENEW_RECONNECT_MS = 100
/** How long the member of a renewed stream waits for the browser to reopen it before it leaves. */
export const SSE_REJOIN_GRACE_MS = RECONNECT_MS + 3000

interface Detached {
  clientId: string
  name: string
  session: string
}

// An entry's event is made once, however many streams it goes to, and kept on the entry as its JSON is
// (wire/payload.ts): each stream writes the same bytes.
const kEvent = Symbol('sse event')

function eventOf(entry: LogEntry): Buffer {
  const holder = entry as { [kEvent]?: Buffer }
  let event = holder[kEvent]
  if (!event) {
    event = holder[kEvent] = Buffer.from(
      `id: ${entry.id}\n${entry.type === 'message' ? '' : `event: ${entry.type}\n`}data: ${encode(entry).json}\n\n`,
    )
    // Let go once this turn's streams have it: the room's log keeps its entries, not their events (see payload.ts).
    madeThisTurn.push(holder)
    if (madeThisTurn.length === 1) setImmediate(letGo)
  }
  return event
}

const madeThisTurn: Array<{ [kEvent]?: Buffer }> = []

function letGo(): void {
  for (const holder of madeThisTurn) holder[kEvent] = undefined
  madeThisTurn.length = 0
}

export const sse: FastifyPluginAsync = async (app) => {
  acceptJsonAsText(app)
  const transportWire = app.wire.recorder(transport)
  const sessions = new HttpSessions(app, transport)
  const perAddress = new AddressCounter(app.config.maxClientsPerAddress, 'SSE streams')
  /** Each open stream's shutdown. */
  const open = new Set<() => void>()
  // One timer beats for every open stream, as the WebSocket heartbeat does: a Timeout each would be kept
  // as long as its stream (and fired on its own). A stream's first comment comes within SSE_HEARTBEAT_MS.
  const beats = new Map<ServerResponse, () => void>()
  const beating = setInterval(() => {
    for (const beat of beats.values()) beat()
  }, app.config.sseHeartbeatMs)
  beating.unref()
  app.addHook('onClose', async () => clearInterval(beating))
  let stopping = false
  /**
   * Members whose stream was renewed, by the reconnect that would continue
   * it: the same address and URL (room, name) and the last event id written.
   * Several streams can share a key (two tabs alike): each reconnect takes one.
   */
  const detached = new Map<string, Detached[]>()
  const renewalKey = (address: string, room: string, name: string | undefined, lastEventId: string) =>
    `${address}|${room}|${name ?? ''}|${lastEventId}`

  app.get(path, async (request, reply) => {
    const header = request.headers['last-event-id']
    const lastEventId = typeof header === 'string' && header ? header : undefined
    const query = request.query as Record<string, unknown>
    const { room, cursor } = readRoomQuery(query, lastEventId)
    const principal = app.auth.principalOf(request.raw)
    const name =
      principal || (query.name !== undefined && query.name !== '') ? readName(query.name, principal) : undefined
    const address = app.clientAddress(request.raw)
    const res = reply.raw

    let lastId = ''
    const releaseAddress = perAddress.acquire(address)
    // The session's stream, from the welcome on: the page that opened it reads its own figures there.
    let wire = transportWire
    /** A frame; `messages` 0 for what only keeps the stream alive (a heartbeat, a goodbye, a renewal's welcome). */
    const write = (frame: string | Buffer, payloadBytes: number, messages = 1) => {
      if (res.writableEnded || res.destroyed) return
      wire.sent(payloadBytes, messages)
      res.write(frame)
    }
    const writeEntry = (entry: LogEntry) => {
      lastId = entry.id
      write(eventOf(entry), encode(entry).bytes)
    }
    /** The last frame of a stream the server ends: why, and (for a renewal) come back at once. */
    const goodbye = (code: string, message: string, retryMs?: number) => {
      write(
        `${retryMs === undefined ? '' : `retry: ${retryMs}\n`}event: bye\ndata: ${JSON.stringify({ code, message })}\n\n`,
        0,
        0,
      )
      if (!res.writableEnded) res.end()
      // A reader that stopped never takes the last bytes; its socket goes after a grace period
      // (and the timer goes with the response, so that it keeps nothing alive for that long).
      const destroy = setTimeout(() => res.socket?.destroy(), CLOSE_GRACE_MS)
      destroy.unref()
      res.once('close', () => clearTimeout(destroy))
    }

    const adopt = lastEventId !== undefined ? takeDetached(renewalKey(address, room, name, lastEventId)) : undefined
    let token = adopt?.session
    let session: PushSession | undefined
    try {
      session = new PushSession(
        app,
        transport,
        adopt?.name ?? name ?? readName(undefined),
        request.raw,
        {
          welcome: (welcome, backlog) => {
            if (token === undefined) ({ token, wire } = sessions.issue(session!.client, request, false))
            else wire = sessions.carry(token, request).wire
            // The welcome's id is the position the backlog starts from, so a stream cut during the backlog resumes it.
            const position = backlog.length > 0 ? backlog[0]!.seq - 1 : welcome.seq
            // A renewed stream's member never left: who came and went meanwhile is in the backlog's notices,
            // so its welcome leaves the member list out (it would be most of a renewal's bytes).
            const renewed = session!.client.clientId === adopt?.clientId && welcome.recovered
            openStream(renewed ? { ...welcome, members: [] } : welcome, token, `${welcome.epoch}-${position}`, renewed)
            for (const entry of backlog) writeEntry(entry)
          },
          entry: writeEntry,
          error: () => {},
          buffered: () => res.writableLength,
          close: (error) => goodbye(error.code, error.message),
        },
        request.log,
        adopt?.clientId,
      )
      // The member it came back for may have left already: then it is a new one, with a session of its own.
      if (session.client.clientId !== adopt?.clientId) token = undefined
      await session.join(room, cursor)
    } catch (error) {
      // Refused before anything was written: an HTTP error, and nobody left behind in the hub.
      session?.close()
      releaseAddress()
      throw error
    }

    function openStream(welcome: Welcome, sessionToken: string, id: string, renewed: boolean): void {
      reply.hijack()
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        // Tells nginx-style proxies not to buffer the stream.
        'x-accel-buffering': 'no',
      })
      const json = encode({ ...welcome, session: sessionToken })
      lastId = id
      write(`retry: ${RECONNECT_MS}\nid: ${id}\nevent: welcome\ndata: ${json.json}\n\n`, json.bytes, renewed ? 0 : 1)
    }

    const clientId = session.client.clientId
    request.log.info({ clientId, room, resumed: cursor?.seq, adopted: adopt !== undefined }, 'SSE stream opened')
    const release = app.wire.hold(transport)
    // Passed inline, not named: under tsx a named closure also keeps a property dictionary for its name.
    beats.set(res, () => {
      write(': ping\n\n', 0, 0)
      session.checkBuffer()
    })
    // The renewal. The member is detached as the goodbye goes out, not when the
    // socket closes: nothing more is written to this stream, so the id the
    // browser will send back is exactly the last one written, and a reconnect
    // that overtakes the close still finds its place. Spread out, so that
    // streams opened together are not all renewed together.
    let renewed = false
    const renewal = setTimeout(
      () => {
        if (session.closed) return
        renewed = true
        goodbye(
          'LAB_RENEW',
          'streams are renewed every SSE_STREAM_MAX_MS: reconnect with Last-Event-ID',
          RENEW_RECONNECT_MS,
        )
        session.detach(SSE_REJOIN_GRACE_MS)
        const key = renewalKey(address, room, name, lastId)
        const waiting: Detached = { clientId, name: session.client.name, session: token! }
        detached.set(key, [...(detached.get(key) ?? []), waiting])
        // After the grace the hub has let the member go (its lease); forget the place too.
        setTimeout(() => takeDetached(key, waiting), SSE_REJOIN_GRACE_MS).unref()
      },
      app.config.sseStreamMaxMs * (0.9 + Math.random() * 0.2),
    )
    const shutdown = () => session.end(new LabError('LAB_ERR_SHUTTING_DOWN'))
    open.add(shutdown)
    res.on('error', (error) => request.log.warn({ err: error, clientId }, 'SSE stream error'))
    res.once('close', () => {
      open.delete(shutdown)
      beats.delete(res)
      clearTimeout(renewal)
      release()
      releaseAddress()
      // A renewed stream's member waits for the browser (see above); any other close is a leave.
      if (!renewed || stopping) session.close()
      request.log.info({ clientId }, 'SSE stream closed')
    })
  })

  /** Takes a waiting member for `key` (a given one, or the first). */
  function takeDetached(key: string, which?: Detached): Detached | undefined {
    const waiting = detached.get(key)
    const found = which ?? waiting?.[0]
    if (!waiting || !found || !waiting.includes(found)) return undefined
    const rest = waiting.filter((d) => d !== found)
    if (rest.length > 0) detached.set(key, rest)
    else detached.delete(key)
    return found
  }

  app.post(
    path,
    handlePost(app, {
      transport,
      sessions,
      joinByPost: false,
      leaseMs: app.config.httpSessionTtlMs,
    }),
  )

  app.addHook('preClose', async () => {
    stopping = true
    for (const shutdown of [...open]) shutdown()
  })
}
