// The wire meter's live figures: JSON for the UI and the tests, Prometheus for
// anything that scrapes. Both read the same snapshot, taken when asked.
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'
import { LabError } from '../core/errors.ts'
import { RoomName } from '../core/protocol.ts'
import type { WireSnapshot, WireTally } from '../wire/meter.ts'
import { assertInstructor } from './instructor-only.ts'

const ConnectionParams = Type.Object({ connectionId: Type.String() })
const RoomParams = Type.Object({ room: RoomName })
/** A page's own connections: the connectionIds of its welcomes, comma-separated (at most OWN_CONNECTIONS_MAX). */
const WireQuery = Type.Object({ connections: Type.Optional(Type.String({ maxLength: 400 })) })
const ServerTime = Type.Object({ serverAt: Type.Number() })
const Limits = Type.Object({ textMaxBytes: Type.Integer(), bodyLimitBytes: Type.Integer() })
const OWN_CONNECTIONS_MAX = 20

export const wireRoutes = fp(
  async (app) => {
    const reading = () => ({ ...app.wire.snapshot(), hub: app.hub.stats() })
    // With ?connections=c12,c15, each stream opened on those connections by the asking address, by transport:
    // a page's own figures beside everyone's. Another address's, or an unknown id, is simply not there.
    app.get('/api/wire', { schema: { querystring: WireQuery } }, async (request) => {
      const { connections } = request.query as { connections?: string }
      if (connections === undefined) return reading()
      const ids = [...new Set(connections.split(',').filter((id) => id !== ''))].slice(0, OWN_CONNECTIONS_MAX)
      return { ...reading(), connections: app.wire.connectionTallies(ids, app.clientAddress(request.raw)) }
    })
    // The instructor's reset: every count back to zero for everyone, from the server's own machine only.
    app.post('/api/wire/reset', async (request) => {
      assertInstructor(
        request,
        "the counters are reset for everyone from the server's own machine only (open the workbench there, at " +
          "http://localhost:PORT); a page's own Reset counters counts from now on for that page alone",
      )
      app.wire.reset()
      return reading()
    })
    // Every client's latest handshake, name=... queries included: for the server's own machine (the
    // benchmarks, a learner's own server). A page asks for its own connections' instead, by the id
    // its welcome names, and gets them only from the address that opened them.
    app.get('/api/wire/handshakes', async (request) => {
      assertInstructor(
        request,
        "every client's handshakes are shown on the server's own machine only: " +
          'ask for yours at /api/wire/handshakes/CONNECTION_ID, with the connectionId of your welcome',
      )
      return app.wire.handshakes()
    })
    app.get('/api/wire/handshakes/:connectionId', { schema: { params: ConnectionParams } }, async (request) => {
      const { connectionId } = request.params as { connectionId: string }
      const handshakes = app.wire.connectionHandshakes(connectionId, app.clientAddress(request.raw))
      if (!handshakes)
        throw new LabError(
          'LAB_ERR_NOT_FOUND',
          `no handshake of yours is kept for connection ${JSON.stringify(connectionId)}: ` +
            'use the connectionId of a welcome this client got',
        )
      return handshakes
    })
    // The headers of a page's own WebSocket frames, both ways, as the server read them: same rule as its handshakes.
    app.get('/api/wire/frames/:connectionId', { schema: { params: ConnectionParams } }, async (request) => {
      const { connectionId } = request.params as { connectionId: string }
      const frames = app.wire.connectionFrames(connectionId, app.clientAddress(request.raw))
      if (!frames)
        throw new LabError(
          'LAB_ERR_NOT_FOUND',
          `no WebSocket frames of yours are kept for connection ${JSON.stringify(connectionId)}: ` +
            'use the connectionId of a welcome your /ws or Socket.IO client got over a WebSocket',
        )
      return frames
    })
    app.get('/api/wire/connections', async () => app.wire.connections())
    // The clock the hub stamps serverAt with (Date.now()): a page times others' messages against its own clock
    // by reading this between two readings of its own (ui/src/latency.ts).
    app.get('/api/time', { schema: { response: { 200: ServerTime } } }, async () => ({ serverAt: Date.now() }))
    // The composer checks a message's length against this server's limit, not the default one.
    app.get('/api/limits', { schema: { response: { 200: Limits } } }, async () => ({
      textMaxBytes: app.config.textMaxBytes,
      bodyLimitBytes: app.config.bodyLimitBytes,
    }))
    app.get('/api/rooms', async () => app.hub.roomSummaries())
    app.get('/api/rooms/:room/presence', { schema: { params: RoomParams } }, async (request) =>
      app.hub.whoIsIn((request.params as { room: string }).room),
    )

    const register = new Registry()
    // The event-loop lag histogram samples on a timer of its own, scraped or not. prom-client's 10 ms wakes an idle
    // server 100 times a second: measured with 1,000 idle WebSockets, 0.8 CPU-s/min where 100 ms costs 0.4 (bare ws,
    // without it, 0.2-0.4). At 100 ms a 15 s scrape still reads its lag from 150 samples.
    collectDefaultMetrics({ register, prefix: 'lab_', eventLoopMonitoringPrecision: 100 })
    // One snapshot per scrape, shared by every metric's collect().
    let current: WireSnapshot | undefined
    const snapshot = () => (current ??= app.wire.snapshot())

    type Labels = Record<string, string>
    /** One metric read from the scrape's snapshot: each transport's tally gives its values, labelled. */
    const metric = (
      Kind: typeof Counter | typeof Gauge,
      name: string,
      help: string,
      labelNames: string[],
      values: (t: WireTally) => Array<[Labels, number]>,
    ) => {
      const each = (set: (labels: Labels, v: number) => void) => {
        for (const [transport, t] of Object.entries(snapshot().transports))
          for (const [labels, v] of values(t)) set({ transport, ...labels }, v)
      }
      const options = { name, help, labelNames: ['transport', ...labelNames], registers: [register] }
      if (Kind === Counter)
        new Counter({
          ...options,
          collect() {
            this.reset()
            each((labels, v) => this.inc(labels, v))
          },
        })
      else
        new Gauge({
          ...options,
          collect() {
            this.reset()
            each((labels, v) => this.set(labels, v))
          },
        })
    }
    const inOut = (valueIn: number, valueOut: number): Array<[Labels, number]> => [
      [{ direction: 'in' }, valueIn],
      [{ direction: 'out' }, valueOut],
    ]

    metric(
      Counter,
      'lab_wire_bytes_total',
      'Bytes that crossed the TCP socket, by transport, direction and kind (payload = the chat JSON, overhead = everything else)',
      ['direction', 'kind'],
      (t) => [
        [{ direction: 'in', kind: 'payload' }, t.payloadIn],
        [{ direction: 'in', kind: 'overhead' }, t.overheadIn],
        [{ direction: 'out', kind: 'payload' }, t.payloadOut],
        [{ direction: 'out', kind: 'overhead' }, t.overheadOut],
      ],
    )
    metric(
      Counter,
      'lab_wire_plain_bytes_total',
      'The payload before compression (permessage-deflate), by transport and direction; equal to the payload bytes where nothing is compressed',
      ['direction'],
      (t) => inOut(t.plainIn, t.plainOut),
    )
    metric(Counter, 'lab_http_requests_total', 'HTTP requests and upgrades served, by transport', [], (t) => [
      [{}, t.httpRequests],
    ])
    metric(Counter, 'lab_messages_total', 'Protocol messages, by transport and direction', ['direction'], (t) =>
      inOut(t.messagesIn, t.messagesOut),
    )
    metric(
      Gauge,
      'lab_connections_open',
      'TCP connections open, by the transport that last used them (other: used for nothing else)',
      [],
      (t) => [[{}, t.connectionsOpen]],
    )
    metric(
      Gauge,
      'lab_requests_held',
      'Requests the server is holding open (long polls waiting, SSE streams)',
      [],
      (t) => [[{}, t.requestsHeld]],
    )
    new Gauge({
      name: 'lab_rooms',
      help: 'Rooms with a log in memory',
      registers: [register],
      collect() {
        this.set(app.hub.stats().rooms)
      },
    })
    new Gauge({
      name: 'lab_clients',
      help: 'Chat clients connected over any transport',
      registers: [register],
      collect() {
        this.set(app.hub.stats().clients)
      },
    })

    app.get('/metrics', async (_request, reply) => {
      current = undefined
      const body = await register.metrics()
      current = undefined
      return reply.type(register.contentType).send(body)
    })
  },
  { name: 'wire-routes', dependencies: ['hub'] },
)
