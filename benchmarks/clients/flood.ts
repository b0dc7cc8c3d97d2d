// The load side of the noisy scenario's flooder, run in a load process of its
// own so that its sending does not share an event loop with the bystanders
// it disturbs. One client sends chat messages as fast as its connection takes
// them, into a room nobody reads, and counts what the server answered:
//
//   websocket  text frames, while the socket's buffer is under FLOOD_BUFFER_BYTES;
//              error frames counted by code; the close code and reason kept
//   socket.io  emits without an ack (socket.io-client, transports: ['websocket']),
//              while Engine.IO's queue is short; `error` events counted by code;
//              the disconnect reason kept
//   http       POST /poll without a session (what a script does), HTTP_CONNECTIONS
//              requests in flight on keep-alive connections; 200s, 429s and other
//              answers counted
//
// How many messages the server accepted is read on the server (the flooded
// room's seq), not guessed here: a WebSocket frame has no answer when it is accepted.
import { Agent } from 'node:http'
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import type { FloodReport } from '../schema.ts'
import type { Endpoint } from '../subjects.ts'
import { sleep, withQuery } from './common.ts'
import { httpCall } from './http.ts'
import { TRANSPORT_INFO } from '../../server/core/names.ts'

export type FloodTransport = FloodReport['transport']

export interface FloodParams {
  /** The server; the transport is `transport`, whatever the endpoint's. */
  endpoint: Endpoint
  transport: FloodTransport
  /** The flooder's own room (push clients join one to connect) and the room it floods. */
  ownRoom: string
  floodRoom: string
  textBytes: number
}

/** What the flooder saw; the runner adds `accepted` from the server. */
export type FloodSeen = Omit<FloodReport, 'accepted'>

const FLOOD_BUFFER_BYTES = 256 * 1024
const ENGINE_QUEUE_MAX = 512
const BATCH = 64
const HTTP_CONNECTIONS = 4
const RATE_LIMIT = 'LAB_ERR_RATE_LIMIT'

const LABELS: Record<FloodTransport, string> = {
  websocket: 'WebSocket frames',
  'socket.io': 'Socket.IO emits (no ack)',
  http: `HTTP POSTs without a session (${HTTP_CONNECTIONS} keep-alive connections)`,
}

class Flooder {
  private readonly params: FloodParams
  private readonly body: string
  private stopped = false
  /** Set when the flooder closes its own connection at the end. */
  private hangingUp = false
  private startedAt = 0
  private cpu = process.cpuUsage()
  attempted = 0
  refused = 0
  private readonly otherErrors = new Map<string, number>()
  private closed: string | null = null
  private closedAfterMs: number | null = null
  private ws: WebSocket | undefined
  private sio: Socket | undefined
  private agent: Agent | undefined
  private inFlight = 0
  private lastError: string | undefined

  constructor(params: FloodParams) {
    this.params = params
    this.body = JSON.stringify({ type: 'send', room: params.floodRoom, text: 'f'.repeat(params.textBytes) })
  }

  /** Connected and ready to flood. */
  async connect(): Promise<void> {
    const { endpoint, transport, ownRoom } = this.params
    if (transport === 'websocket') {
      const ws = new WebSocket(
        withQuery(`${endpoint.url.replace(/^http/, 'ws')}${TRANSPORT_INFO.websocket.path}`, {
          room: ownRoom,
          name: 'flooder',
          role: 'send',
        }),
      )
      this.ws = ws
      ws.on('error', () => {})
      await new Promise<void>((resolve, reject) => {
        ws.on('message', (data) => {
          const m = JSON.parse((data as Buffer).toString()) as { type?: string; code?: string }
          if (m.type === 'welcome') resolve()
          else if (m.type === 'error') this.answered(m.code ?? 'error')
        })
        ws.once('close', (code, reason) => {
          this.close(`${code}${reason.length ? ` ${String(reason)}` : ''}`)
          reject(new Error(`closed with ${code} before the welcome`))
        })
      })
    } else if (transport === 'socket.io') {
      const socket = io(endpoint.url, {
        forceNew: true,
        reconnection: false,
        transports: ['websocket'],
        query: { role: 'send' },
        auth: { protocol: 'lab', name: 'flooder', room: ownRoom },
      })
      this.sio = socket
      socket.on('error', (e: { code?: string }) => this.answered(e?.code ?? 'error'))
      socket.on('disconnect', (reason) =>
        this.close(`${this.lastError ? `error ${this.lastError}, then ` : ''}${reason}`),
      )
      await new Promise<void>((resolve, reject) => {
        socket.once('welcome', () => resolve())
        socket.once('connect_error', reject)
      })
    } else {
      this.agent = new Agent({ keepAlive: true, maxSockets: HTTP_CONNECTIONS })
    }
  }

  start(): void {
    this.startedAt = performance.now()
    this.cpu = process.cpuUsage()
    if (this.params.transport === 'http') {
      for (let i = 0; i < HTTP_CONNECTIONS; i++) this.post()
    } else {
      this.pump()
    }
  }

  private answered(code: string): void {
    if (code === RATE_LIMIT) this.refused++
    else this.otherErrors.set(code, (this.otherErrors.get(code) ?? 0) + 1)
    this.lastError = code
  }

  /** The server ended the connection (not the flooder's own close at the end). */
  private close(how: string): void {
    if (this.closed !== null || this.hangingUp) return
    this.closed = how
    if (this.startedAt > 0) this.closedAfterMs = performance.now() - this.startedAt
  }

  /** Push transports: a batch per turn of the event loop while the connection takes them. */
  private pump(): void {
    if (this.stopped || this.closed !== null) return
    if (this.ws) {
      const ws = this.ws
      if (ws.readyState !== WebSocket.OPEN) return
      for (let i = 0; i < BATCH && ws.bufferedAmount < FLOOD_BUFFER_BYTES; i++) {
        ws.send(this.body)
        this.attempted++
      }
    } else if (this.sio) {
      const socket = this.sio
      const queue = (socket.io.engine as unknown as { writeBuffer?: unknown[] }).writeBuffer?.length ?? 0
      if (!socket.connected) return
      for (let i = 0; i < BATCH && queue + i < ENGINE_QUEUE_MAX; i++) {
        socket.emit('send', { room: this.params.floodRoom, text: 'f'.repeat(this.params.textBytes) })
        this.attempted++
      }
    }
    setImmediate(() => this.pump())
  }

  /** HTTP: one request per connection, the next as soon as the answer is in. */
  private post(): void {
    if (this.stopped) return
    this.attempted++
    this.inFlight++
    httpCall(
      this.agent!,
      'POST',
      withQuery(`${this.params.endpoint.url}${TRANSPORT_INFO['short-polling'].path}`, { role: 'send' }),
      this.body,
    )
      .then(
        (answer) => {
          if (answer.status === 429) this.refused++
          else if (answer.status !== 200) this.answered(`HTTP ${answer.status}`)
        },
        (error: Error) => this.answered(`request error: ${error.message.slice(0, 60)}`),
      )
      .finally(() => {
        this.inFlight--
        this.post()
      })
  }

  async stop(): Promise<FloodSeen> {
    this.stopped = true
    const durationMs = performance.now() - this.startedAt
    const used = process.cpuUsage(this.cpu)
    // Answers to what is already on the wire still count.
    const deadline = performance.now() + 1000
    while (this.inFlight > 0 && performance.now() < deadline) await sleep(5)
    await sleep(100)
    this.hangingUp = true
    this.ws?.terminate()
    this.sio?.disconnect()
    this.agent?.destroy()
    return {
      transport: this.params.transport,
      label: LABELS[this.params.transport],
      durationMs,
      attempted: this.attempted,
      refused: this.refused,
      otherErrors: [...this.otherErrors].map(([reason, count]) => ({ reason, count })),
      closed: this.closed,
      closedAfterMs: this.closedAfterMs,
      loadCpuCores: (used.user + used.system) / 1000 / durationMs,
    }
  }
}

let flooder: Flooder | undefined

export const floodHandlers = {
  /** Connects the flooder and starts the flood; resolves once the first messages are on their way. */
  'flood.start': async (params: FloodParams) => {
    await flooder?.stop()
    flooder = new Flooder(params)
    await flooder.connect()
    flooder.start()
    return { started: true }
  },
  'flood.stop': async () => {
    if (!flooder) throw new Error('no flood is running')
    const seen = await flooder.stop()
    flooder = undefined
    return seen
  },
}
