// One test client per transport, all with the same shape, so that one
// contract suite and the 5x5 matrix can run against every transport. Each
// speaks its transport the way a real client would: fetch for polling,
// EventSource for SSE, ws for WebSocket, socket.io-client for Socket.IO.
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import type {
  Ack,
  Batch,
  ChatMessage,
  Cursor,
  ErrorMessage,
  LogEntry,
  ServerMessage,
  TransportName,
  Welcome,
} from '../../server/core/protocol.ts'
import { until } from './wait.ts'

export interface SendExtra {
  sentAt?: number
  clientMsgId?: string
}

export interface LabClient {
  readonly transport: TransportName
  readonly name: string
  readonly welcomes: Welcome[]
  /** Every log entry received, in arrival order, without duplicates. */
  readonly entries: LogEntry[]
  readonly errors: ErrorMessage[]
  /** Rooms where a resume could not fill the gap (recovered: false). */
  readonly historyLost: string[]
  join(room: string, after?: Cursor): Promise<Welcome>
  leave(room: string): Promise<void>
  /** The ack, on the transports that answer a send with one (HTTP, Socket.IO); a WebSocket send has none. */
  send(room: string, text: string, extra?: SendExtra): Promise<Ack | undefined>
  /** Sends raw text in this transport's own framing and returns the error it answers with. */
  sendRaw(raw: string): Promise<ErrorMessage & { status?: number }>
  close(): Promise<void>
}

/**
 * Who is in the room as this client was told: its last welcome's members, then every notice and presence
 * entry after it (exact while the room has at most WELCOME_MEMBERS_MAX members).
 */
export function rosterOf(client: LabClient, room: string): Set<string> {
  const welcome = client.welcomes.filter((w) => w.room === room).at(-1)
  const names = new Set<string>(welcome?.members.map((m) => m.name))
  for (const entry of client.entries) {
    if (entry.room !== room || (welcome && entry.seq <= welcome.seq)) continue
    if (entry.type === 'notice') {
      if (entry.event === 'join') names.add(entry.who.name)
      else names.delete(entry.who.name)
    } else if (entry.type === 'presence') {
      for (const m of entry.joined) names.add(m.name)
      for (const m of entry.left) names.delete(m.name)
    }
  }
  return names
}

export function messagesIn(client: LabClient, room: string): ChatMessage[] {
  return client.entries.filter((e): e is ChatMessage => e.type === 'message' && e.room === room)
}

export async function waitForText(
  client: LabClient,
  room: string,
  text: string,
  timeoutMs = 5000,
): Promise<ChatMessage> {
  return until(
    () => messagesIn(client, room).find((m) => m.text === text),
    `${client.transport} to receive "${text}" in ${room}`,
    timeoutMs,
  )
}

abstract class BaseClient implements LabClient {
  abstract readonly transport: TransportName
  readonly welcomes: Welcome[] = []
  readonly entries: LogEntry[] = []
  readonly errors: ErrorMessage[] = []
  readonly historyLost: string[] = []
  private readonly seen = new Set<string>()
  readonly url: string
  readonly name: string

  constructor(url: string, name: string) {
    this.url = url
    this.name = name
  }

  protected receive(entry: LogEntry): void {
    const key = `${entry.room}/${entry.epoch}/${entry.seq}`
    if (this.seen.has(key)) return
    this.seen.add(key)
    this.entries.push(entry)
  }

  protected async nextError(action: () => void | Promise<void>): Promise<ErrorMessage> {
    const before = this.errors.length
    await action()
    return until(() => this.errors[before], `${this.transport} to answer with an error`)
  }

  protected async nextWelcome(room: string, action: () => void): Promise<Welcome> {
    const before = this.welcomes.length
    action()
    return until(() => this.welcomes.slice(before).find((w) => w.room === room), `${this.transport} welcome to ${room}`)
  }

  abstract join(room: string, after?: Cursor): Promise<Welcome>
  abstract leave(room: string): Promise<void>
  abstract send(room: string, text: string, extra?: SendExtra): Promise<Ack | undefined>
  abstract sendRaw(raw: string): Promise<ErrorMessage & { status?: number }>
  abstract close(): Promise<void>
}

/** The POST that the three HTTP transports send with, and the session it carries. */
class HttpSender {
  session: string | undefined
  private readonly endpoint: string
  private readonly errors: ErrorMessage[]

  constructor(endpoint: string, errors: ErrorMessage[]) {
    this.endpoint = endpoint
    this.errors = errors
  }

  headers(): Record<string, string> {
    return this.session ? { 'x-lab-session': this.session } : {}
  }

  post(body: unknown): Promise<Response> {
    return fetch(this.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.headers() },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }

  async send(room: string, text: string, extra: SendExtra): Promise<Ack | undefined> {
    const res = await this.post({ type: 'send', room, text, ...extra })
    const body: unknown = await res.json()
    if (res.status === 200) return body as Ack
    this.errors.push(body as ErrorMessage)
    return undefined
  }

  async sendRaw(raw: string) {
    const res = await this.post(raw)
    const body = (await res.json()) as ErrorMessage
    this.errors.push(body)
    return { ...body, status: res.status }
  }
}

/** Short and long polling differ only in the GET they loop on. */
class PollingClient extends BaseClient {
  readonly transport: 'short-polling' | 'long-polling'
  private readonly path: string
  private readonly http: HttpSender
  private readonly loops = new Map<string, AbortController>()
  private readonly intervalMs: number

  constructor(url: string, name: string, transport: 'short-polling' | 'long-polling', intervalMs = 25) {
    super(url, name)
    this.transport = transport
    this.path = transport === 'short-polling' ? '/poll' : '/long-poll'
    this.http = new HttpSender(`${url}${this.path}`, this.errors)
    this.intervalMs = intervalMs
  }

  async join(room: string, after?: Cursor): Promise<Welcome> {
    const res = await this.http.post({ type: 'join', room, name: this.name, ...(after ? { after } : {}) })
    const welcome = (await res.json()) as Welcome
    if (res.status !== 200) throw new Error(`join failed: ${JSON.stringify(welcome)}`)
    this.http.session ??= welcome.session
    if (!welcome.recovered) this.historyLost.push(room)
    this.welcomes.push(welcome)
    this.loop(room, after ?? { seq: welcome.seq, epoch: welcome.epoch })
    return welcome
  }

  private loop(room: string, start: Cursor): void {
    const abort = new AbortController()
    this.loops.set(room, abort)
    let cursor = start
    void (async () => {
      while (!abort.signal.aborted) {
        try {
          const query = new URLSearchParams({
            room,
            since: String(cursor.seq),
            ...(cursor.epoch ? { epoch: cursor.epoch } : {}),
          })
          const res = await fetch(`${this.url}${this.path}?${query}`, {
            headers: this.http.headers(),
            signal: abort.signal,
          })
          const batch = (await res.json()) as Batch
          if (!batch.recovered) this.historyLost.push(room)
          for (const entry of batch.entries) this.receive(entry)
          cursor = { seq: batch.seq, epoch: batch.epoch }
        } catch {
          if (abort.signal.aborted) return
        }
        if (this.transport === 'short-polling') await new Promise((r) => setTimeout(r, this.intervalMs))
      }
    })()
  }

  async leave(room: string): Promise<void> {
    this.loops.get(room)?.abort()
    this.loops.delete(room)
    await (await this.http.post({ type: 'leave', room })).json()
  }

  send(room: string, text: string, extra: SendExtra = {}): Promise<Ack | undefined> {
    return this.http.send(room, text, extra)
  }

  sendRaw(raw: string) {
    return this.http.sendRaw(raw)
  }

  async close(): Promise<void> {
    for (const abort of this.loops.values()) abort.abort()
    this.loops.clear()
  }
}

class SseClient extends BaseClient {
  readonly transport = 'sse' as const
  private readonly streams = new Map<string, EventSource>()
  private readonly http = new HttpSender(`${this.url}/sse`, this.errors)

  async join(room: string, after?: Cursor): Promise<Welcome> {
    const query = new URLSearchParams({
      room,
      name: this.name,
      ...(after ? { since: String(after.seq), ...(after.epoch ? { epoch: after.epoch } : {}) } : {}),
    })
    return this.nextWelcome(room, () => {
      const source = new EventSource(`${this.url}/sse?${query}`)
      this.streams.set(room, source)
      source.addEventListener('welcome', (event) => {
        const welcome = JSON.parse(event.data as string) as Welcome
        if (!welcome.recovered) this.historyLost.push(room)
        // The first stream's session is the one this client sends with.
        this.http.session ??= welcome.session
        this.welcomes.push(welcome)
      })
      source.addEventListener('message', (event) => this.receive(JSON.parse(event.data as string) as LogEntry))
      source.addEventListener('notice', (event) => this.receive(JSON.parse(event.data as string) as LogEntry))
      source.addEventListener('presence', (event) => this.receive(JSON.parse(event.data as string) as LogEntry))
    })
  }

  async leave(room: string): Promise<void> {
    this.streams.get(room)?.close()
    this.streams.delete(room)
  }

  send(room: string, text: string, extra: SendExtra = {}): Promise<Ack | undefined> {
    return this.http.send(room, text, extra)
  }

  sendRaw(raw: string) {
    return this.http.sendRaw(raw)
  }

  async close(): Promise<void> {
    for (const source of this.streams.values()) source.close()
    this.streams.clear()
  }
}

class WebSocketClient extends BaseClient {
  readonly transport = 'websocket' as const
  socket: WebSocket | undefined
  closeCode: number | undefined

  async join(room: string, after?: Cursor): Promise<Welcome> {
    if (!this.socket) {
      const query = new URLSearchParams({
        room,
        name: this.name,
        ...(after ? { since: String(after.seq), ...(after.epoch ? { epoch: after.epoch } : {}) } : {}),
      })
      return this.nextWelcome(room, () => {
        const socket = new WebSocket(`${this.url.replace('http', 'ws')}/ws?${query}`)
        this.socket = socket
        socket.on('message', (data) => this.onMessage((data as Buffer).toString()))
        socket.on('close', (code) => {
          this.closeCode = code
        })
      })
    }
    return this.nextWelcome(room, () =>
      this.socket!.send(JSON.stringify({ type: 'join', room, ...(after ? { after } : {}) })),
    )
  }

  private onMessage(text: string): void {
    const message = JSON.parse(text) as ServerMessage
    if (message.type === 'welcome') {
      if (!message.recovered) this.historyLost.push(message.room)
      this.welcomes.push(message)
    } else if (message.type === 'error') this.errors.push(message)
    else this.receive(message as LogEntry)
  }

  async leave(room: string): Promise<void> {
    this.socket!.send(JSON.stringify({ type: 'leave', room }))
  }

  async send(room: string, text: string, extra: SendExtra = {}): Promise<undefined> {
    this.socket!.send(JSON.stringify({ type: 'send', room, text, ...extra }))
    return undefined
  }

  async sendRaw(raw: string) {
    return this.nextError(() => this.socket!.send(raw))
  }

  async close(): Promise<void> {
    const socket = this.socket
    if (!socket || socket.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve())
      socket.close()
    })
  }
}

class SocketIoClient extends BaseClient {
  readonly transport = 'socket.io' as const
  socket: Socket | undefined

  async join(room: string, after?: Cursor): Promise<Welcome> {
    if (!this.socket) {
      return this.nextWelcome(room, () => {
        const socket = io(this.url, {
          forceNew: true,
          reconnection: false,
          auth: { protocol: 'lab', name: this.name, room, ...(after ? { since: after.seq, epoch: after.epoch } : {}) },
        })
        this.socket = socket
        socket.on('welcome', (welcome: Welcome) => {
          if (!welcome.recovered) this.historyLost.push(welcome.room)
          this.welcomes.push(welcome)
        })
        socket.on('message', (entry: LogEntry) => this.receive(entry))
        socket.on('notice', (entry: LogEntry) => this.receive(entry))
        socket.on('presence', (entry: LogEntry) => this.receive(entry))
        socket.on('error', (error: ErrorMessage) => this.errors.push(error))
      })
    }
    return this.nextWelcome(room, () => this.socket!.emit('join', { room, ...(after ? { after } : {}) }))
  }

  async leave(room: string): Promise<void> {
    await this.socket!.emitWithAck('leave', { room })
  }

  async send(room: string, text: string, extra: SendExtra = {}): Promise<Ack | undefined> {
    // A refused send's ack is its error, which also comes as an `error` event.
    const answer = (await this.socket!.emitWithAck('send', { room, text, ...extra })) as Ack | ErrorMessage
    return answer.type === 'ack' ? answer : undefined
  }

  /** Socket.IO frames JSON itself: raw text arrives as a protocol message when it parses, else as a bare string argument. */
  async sendRaw(raw: string) {
    let parsed: unknown = raw
    try {
      parsed = JSON.parse(raw)
    } catch {
      // not JSON: sent as a string, which the server rejects as not being a message object
    }
    const type = typeof parsed === 'object' && parsed !== null ? String((parsed as { type?: unknown }).type) : 'send'
    return this.nextError(() => {
      this.socket!.emit(type, parsed)
    })
  }

  async close(): Promise<void> {
    this.socket?.disconnect()
  }
}

export function createClient(transport: TransportName, url: string, name: string): LabClient {
  switch (transport) {
    case 'short-polling':
    case 'long-polling':
      return new PollingClient(url, name, transport)
    case 'sse':
      return new SseClient(url, name)
    case 'websocket':
      return new WebSocketClient(url, name)
    case 'socket.io':
      return new SocketIoClient(url, name)
  }
}
