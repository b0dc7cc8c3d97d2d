// One ChatClient per transport, all with the same shape: the panels, the
// inspector and the tests drive them alike. A client is in one room at a time
// and keeps a resume cursor (seq + epoch), so a dropped connection comes back
// with exactly what it missed, or says plainly that the history was lost.
import type { Cursor, ErrorMessage, LogEntry, TransportName, Welcome } from '../../../server/core/protocol.ts'
import { now } from '../clock.ts'

export const CONNECTION_STATES = ['idle', 'connecting', 'open', 'reconnecting', 'closed'] as const
export type ConnectionState = (typeof CONNECTION_STATES)[number]

export interface Received {
  entry: LogEntry
  /** Page clock (ms, fractional) when this client got it. */
  receivedAt: number
  /** Arrived in a resume backlog rather than live. */
  backfilled: boolean
}

/** One exchange as this client saw it, like a row of DevTools' Messages tab. */
export interface Frame {
  dir: 'up' | 'down'
  at: number
  /** Bytes of the frame or body as the client handled it (headers are not visible to page scripts). */
  bytes: number
  /** What kind of frame: "GET /poll → 200", "text frame", "EIO 4 message · SIO 2 EVENT". */
  kind: string
  content: string
}

export interface ClientStats {
  /** HTTP requests this client made (the upgrade counts as one). */
  requests: number
  bytesUp: number
  bytesDown: number
  framesUp: number
  framesDown: number
  messages: number
  reconnects: number
}

export interface ClientOptions {
  /** http(s)://host:port of the server; the page's origin in the browser. */
  baseUrl: string
  name: string
  room: string
  pollIntervalMs?: number
  longPollTimeoutMs?: number
  compress?: boolean
  /**
   * A token from POST /api/login, for a client outside the browser (`npm run chat --token`). Each transport sends
   * it the way a script can: Authorization on HTTP, ?token= for EventSource (which cannot set headers), the
   * subprotocol list for WebSocket, Socket.IO's auth object. In the workbench the login cookie does it instead.
   */
  token?: string
  /**
   * Added to every URL this client builds (each poll, join and send, the EventSource's, the WebSocket's, Socket.IO's
   * every request): behind the cluster's balancer, `sticky` picks the instance by hash and `node` pins one. The
   * protocol's own parameters (room, cursor, name) win over a name given here.
   */
  query?: Record<string, string>
}

export interface SendExtra {
  sentAt?: number
  clientMsgId?: string
}

/**
 * What became of one send. `sent`: the server took it (the seq it got, where the answer says). `refused`: the
 * server said no, with its code and message (an HTTP status, or the close code of a connection it ended for it).
 * `not-joined`: this client is not in its room, so nothing went out (`offHere`: this tab leaves the transport
 * off, see state/tab-budget.ts). `no-answer`: it went out and no answer
 * came back (the connection broke, or time ran out), so it may or may not have arrived.
 */
export type SendOutcome =
  | { status: 'sent'; seq: number | undefined }
  | { status: 'refused'; code: string; message: string; httpStatus?: number }
  | { status: 'not-joined'; state: ConnectionState; offHere?: boolean }
  | { status: 'no-answer'; message: string }

/** How long a send waits for the server's answer before saying there was none. */
export const SEND_ANSWER_MS = 10_000

const FRAMES_KEPT = 300
const RECONNECT_MIN_MS = 500
const RECONNECT_MAX_MS = 5000

export interface ChatClientEventMap {
  state: CustomEvent<ConnectionState>
  welcome: CustomEvent<Welcome>
  entry: CustomEvent<Received>
  frame: CustomEvent<Frame>
  'history-lost': CustomEvent<{ room: string }>
  error: CustomEvent<ErrorMessage>
}

export abstract class ChatClient extends EventTarget {
  abstract readonly transport: TransportName
  readonly baseUrl: string
  name: string
  room: string
  pollIntervalMs: number
  longPollTimeoutMs: number
  compress: boolean
  /** See ClientOptions.query; moveTo() changes it. */
  query: Record<string, string>
  state: ConnectionState = 'idle'
  welcome: Welcome | undefined
  cursor: Cursor | undefined
  readonly stats: ClientStats = {
    requests: 0,
    bytesUp: 0,
    bytesDown: 0,
    framesUp: 0,
    framesDown: 0,
    messages: 0,
    reconnects: 0,
  }
  readonly frames: Frame[] = []
  /** Why the server sent this client away (an instructor's disconnect), until it is started again. */
  sentAway: ErrorMessage | undefined
  /** The welcome's position: entries up to it came in the resume backlog. */
  private backfillUntil: Cursor | undefined
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined
  private reconnectDelay = RECONNECT_MIN_MS
  private stopped = true
  protected readonly token: string | undefined

  constructor(options: ClientOptions) {
    super()
    this.baseUrl = options.baseUrl.replace(/\/$/, '')
    this.name = options.name
    this.room = options.room
    this.pollIntervalMs = options.pollIntervalMs ?? 1000
    this.longPollTimeoutMs = options.longPollTimeoutMs ?? 25000
    this.compress = options.compress ?? false
    this.token = options.token
    this.query = { ...options.query }
  }

  /** Connects (or reconnects) to `room`, resuming after `after` when given. */
  protected abstract open(after: Cursor | undefined): void
  /** Tears the connection down without telling the server anything more. */
  protected abstract close(): void
  /** Tells the server this client leaves the room (HTTP sessions; push transports just close). */
  protected async leaveRoom(): Promise<void> {}
  /** Puts one send on the wire and waits for the server's answer to it. */
  protected abstract deliver(text: string, extra: SendExtra): Promise<SendOutcome>

  /** Sends one message and says what became of it; a client out of its room sends nothing. Never throws. */
  async send(text: string, extra: SendExtra = {}): Promise<SendOutcome> {
    if (this.state !== 'open') return { status: 'not-joined', state: this.state }
    try {
      return await this.deliver(text, extra)
    } catch (error) {
      return { status: 'no-answer', message: error instanceof Error ? error.message : String(error) }
    }
  }

  start(): void {
    this.stopped = false
    this.sentAway = undefined
    this.connect()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.cancelReconnect()
    await this.leaveRoom().catch(() => {})
    this.close()
    this.setState('closed')
  }

  /** Cuts the connection as a network failure would, then comes back after `outageMs` and resumes. */
  drop(outageMs = 1500): void {
    this.close()
    this.stats.reconnects++
    this.setState('reconnecting')
    this.reconnectAfter(outageMs)
  }

  async switchRoom(room: string): Promise<void> {
    if (room === this.room && !this.stopped) return
    // A reconnect due during the leave would open the old room again.
    this.cancelReconnect()
    await this.leaveRoom().catch(() => {})
    this.close()
    this.room = room
    this.cursor = undefined
    this.welcome = undefined
    this.start()
  }

  /** Joins again under a new name: a member's name is given when it joins, so the client leaves and comes back as a new one. */
  async rename(name: string): Promise<void> {
    this.name = name
    if (this.stopped) return
    await this.stop()
    this.forgetMember()
    this.start()
  }

  /**
   * Joins as a new member under `name`, resuming from the cursor: after a login, when the member it was
   * belongs to a token that is no longer good.
   */
  restartAs(name: string): void {
    this.name = name
    this.forgetMember()
    this.start()
  }

  /**
   * Connects with another extra query (a panel pinned to an instance, or let go): it leaves where it is, as the
   * member it was there, and joins again from its cursor where the new query leads. A stopped client only
   * remembers it for its next start.
   */
  async moveTo(query: Record<string, string>): Promise<void> {
    if (this.stopped) {
      this.query = { ...query }
      return
    }
    await this.stop()
    this.query = { ...query }
    this.forgetMember()
    this.start()
  }

  /** Drops what makes this client the same member to the server (HTTP clients: their session). */
  protected forgetMember(): void {}

  /** Applies a changed setting by reconnecting (compression is negotiated in the handshake). */
  reconnect(): void {
    this.drop(0)
  }

  /**
   * The server answers again (the page's meter read it): a client still waiting to reconnect, on its own
   * backoff or its library's, tries at once and rejoins, rather than up to several seconds later or, should
   * that library have given up, never. One the user took out of the room stays out.
   */
  retryNow(): void {
    if (this.stopped || this.state !== 'reconnecting') return
    this.reconnectDelay = RECONNECT_MIN_MS
    this.connect()
  }

  /**
   * `url` with this client's query added: a page request about this client's connection (the Inspector's
   * handshake and frames) then reaches, through the balancer, the instance that holds the connection.
   */
  withQuery(url: string): string {
    const search = new URLSearchParams(this.query).toString()
    return search ? `${url}${url.includes('?') ? '&' : '?'}${search}` : url
  }

  /** The TCP connection whose request opened this client's stream, as its latest welcome names it (the inspector asks for that handshake). */
  get connectionId(): string | undefined {
    return this.welcome?.connectionId
  }

  on<K extends keyof ChatClientEventMap>(type: K, listener: (event: ChatClientEventMap[K]) => void): () => void {
    const wrapped = listener as EventListener
    this.addEventListener(type, wrapped)
    return () => this.removeEventListener(type, wrapped)
  }

  protected onWelcome(welcome: Welcome): void {
    if (welcome.room !== this.room) return
    const cursor = this.cursor
    // A seq says nothing about another epoch's log: a server that did not
    // know our epoch (a bare Last-Event-ID, say) cannot have resumed it.
    const lost = cursor !== undefined && (!welcome.recovered || !sameEpoch(cursor, welcome.epoch))
    if (lost) this.emit('history-lost', { room: welcome.room })
    // After a loss the backlog is whatever the server kept: take all of it.
    if (cursor === undefined || lost) this.cursor = { seq: lost ? 0 : welcome.seq, epoch: welcome.epoch }
    this.backfillUntil = { seq: welcome.seq, epoch: welcome.epoch }
    this.welcome = welcome
    this.reconnectDelay = RECONNECT_MIN_MS
    this.setState('open')
    this.emit('welcome', welcome)
  }

  protected onEntry(entry: LogEntry): void {
    if (entry.room !== this.room) return
    const cursor = this.cursor
    if (cursor && !sameEpoch(cursor, entry.epoch)) {
      // The log started over without a welcome saying so (an EventSource that
      // reconnected by itself to a restarted server): what came between is gone.
      this.emit('history-lost', { room: this.room })
    } else if (cursor && entry.seq <= cursor.seq) {
      return
    }
    this.cursor = { seq: entry.seq, epoch: entry.epoch }
    if (entry.type === 'message') this.stats.messages++
    const backlog = this.backfillUntil
    const backfilled = backlog !== undefined && sameEpoch(backlog, entry.epoch) && entry.seq <= backlog.seq
    this.emit('entry', { entry, receivedAt: now(), backfilled })
  }

  /** For pull transports: a batch that could not fill the gap. */
  protected onGap(epoch: string): void {
    if (this.cursor?.epoch === epoch && this.cursor.seq === 0) return
    this.emit('history-lost', { room: this.room })
    this.cursor = { seq: 0, epoch }
  }

  protected onError(error: ErrorMessage): void {
    // Sent away on purpose: coming straight back would undo the instructor's disconnect. Join brings it back.
    // A token refused (expired, revoked, logged out) would be refused again on every retry: the page logs in first.
    if (error.code === 'LAB_ERR_DISCONNECTED' || error.code === 'LAB_ERR_AUTH') {
      if (error.code === 'LAB_ERR_DISCONNECTED') this.sentAway = error
      this.stopped = true
      this.cancelReconnect()
      this.close()
      this.setState('closed')
    }
    this.emit('error', error)
  }

  protected onFrame(frame: Omit<Frame, 'at'>): void {
    const full = { ...frame, at: now() }
    if (frame.dir === 'up') {
      this.stats.framesUp++
      this.stats.bytesUp += frame.bytes
    } else {
      this.stats.framesDown++
      this.stats.bytesDown += frame.bytes
    }
    this.frames.push(full)
    if (this.frames.length > FRAMES_KEPT) this.frames.splice(0, this.frames.length - FRAMES_KEPT)
    this.emit('frame', full)
  }

  /** The connection failed by itself: try again with growing pauses, resuming from the cursor. */
  protected connectionLost(): void {
    // With a reconnect already due, the connection that failed was closed on purpose.
    if (this.stopped || this.reconnectTimer !== undefined) return
    this.close()
    this.stats.reconnects++
    this.setState('reconnecting')
    this.reconnectAfter(this.reconnectDelay)
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2)
  }

  /** One connection at a time: whatever was open or due goes first. */
  private connect(): void {
    this.cancelReconnect()
    this.close()
    this.setState('connecting')
    this.open(this.cursor)
  }

  /** The one place a reconnect is scheduled, so the timer field is undefined exactly when none is due. */
  private reconnectAfter(delayMs: number): void {
    this.cancelReconnect()
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined
      if (!this.stopped) this.connect()
    }, delayMs)
  }

  private cancelReconnect(): void {
    clearTimeout(this.reconnectTimer)
    this.reconnectTimer = undefined
  }

  protected setState(state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    this.emit('state', state)
  }

  private emit<K extends keyof ChatClientEventMap>(type: K, detail: ChatClientEventMap[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

/** A cursor without an epoch matches any, as on the server (and as cursorQuery sends it). */
function sameEpoch(cursor: Cursor, epoch: string): boolean {
  return !cursor.epoch || cursor.epoch === epoch
}

export function cursorQuery(after: Cursor | undefined): Record<string, string> {
  if (!after) return {}
  return after.epoch ? { since: String(after.seq), epoch: after.epoch } : { since: String(after.seq) }
}
