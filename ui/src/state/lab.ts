// The page's model: who I am, which room, one client per transport, what this
// page sent (so its own messages' latency is measured on one clock), how far
// the server's clock is from the page's (so everyone else's can be given one
// too), and the wire meter.
import type { ChatMessage } from '../../../server/core/protocol.ts'
import { TEXT_MAX_BYTES, TRANSPORTS, type TransportName } from '../../../server/core/names.ts'
import { createChatClient, type ChatClient } from '../clients/index.ts'
import type { SendOutcome } from '../clients/chat-client.ts'
import { now } from '../clock.ts'
import { receivedLatency, type ReceivedLatency } from '../latency.ts'
import { login, logout, readAuth, type AuthState, type LoginResult } from './auth.ts'
import { ClusterStore } from './cluster.ts'
import { CrossingLog } from './crossings.ts'
import { ALL_FIVE_MARK } from './panel-rows.ts'
import { NetworkStore } from './network.ts'
import { ServerClock } from './server-clock.ts'
import { TabBudget } from './tab-budget.ts'
import { WireStore } from './wire-store.ts'

/** A message this page sent, back in one panel: the Charts tab's points. */
export interface LatencySample {
  /** The panel (transport) that received the message. */
  transport: TransportName
  /** The transport it was sent over. */
  via: TransportName
  ms: number
  at: number
  text: string
}

export interface Sent {
  sentAt: number
  via: TransportName
}

/** What became of a send over one transport. */
export interface SendResult {
  transport: TransportName
  outcome: SendOutcome
}

const LATENCY_KEPT = 500
/** In an open lab, how often a lost token may make the clients rejoin without one. */
const OPEN_LAB_REJOIN_MS = 10_000
/** How far this page's clock may be from the server's when it tells an expired login from another loss. */
const EXPIRY_SLACK_MS = 5000
/** The transports that keep an HTTP connection open for good: a tab beyond the browser's budget leaves them off. */
export const HELD_TRANSPORTS: readonly TransportName[] = ['long-polling', 'sse']

export class Lab extends EventTarget {
  name = ''
  room = 'lobby'
  readonly baseUrl: string
  readonly clients: Record<TransportName, ChatClient>
  readonly wire: WireStore
  readonly clock: ServerClock
  /** The network this page is behind: its origin's port says which. */
  readonly network: NetworkStore
  /** The servers behind the page (GET /api/cluster): none when the server runs alone. */
  readonly cluster: ClusterStore
  /** Behind the cluster: which instance sent and which delivered each recent message (the Cluster view). */
  readonly crossings = new CrossingLog()
  /**
   * Behind the cluster, each panel's `?sticky=` value: random, one per panel, kept across its reconnects, so the
   * balancer's hash spreads one browser's five panels over the instances and keeps each on its own.
   */
  readonly sticky: Record<TransportName, string>
  /** Panels pinned to an instance (`?node=`); the others go where their sticky value hashes. */
  readonly pins: Partial<Record<TransportName, string>> = {}
  /** clientMsgId -> when and how this page sent it. */
  readonly sent = new Map<string, Sent>()
  readonly latency: LatencySample[] = []
  /** This server's limit on a message's text, in UTF-8 bytes (GET /api/limits), the default until it answers. */
  textMaxBytes = TEXT_MAX_BYTES
  /** The other tabs of the workbench in this browser, and whether this one may hold connections open. */
  readonly tabs = new TabBudget()
  /** Held transports this tab has not opened, for want of connections: they open once it may. */
  private readonly heldBack = new Set<TransportName>(HELD_TRANSPORTS)
  /** GET /api/auth as last read: whether a code is needed, and who the cookie says this page is. */
  auth: AuthState | undefined
  /**
   * Every client stopped because the token is gone (expired, revoked, logged out): the page
   * logs in again before it rejoins. One loss, however many transports report it.
   */
  loggedOut = false
  private counter = 0
  private started = false
  private probing = false
  private openLabRejoinedAt = -Infinity
  private readonly clusterRead: Promise<void>

  constructor(baseUrl = location.origin) {
    super()
    this.baseUrl = baseUrl
    this.clock = new ServerClock(baseUrl)
    this.network = new NetworkStore(baseUrl)
    this.cluster = new ClusterStore(baseUrl)
    this.sticky = Object.fromEntries(TRANSPORTS.map((t) => [t, `${t}-${randomHex()}`])) as Record<TransportName, string>
    // The meter and the clock are read straight from the server's port: the network is for the chat, not the instruments.
    void this.network.load().then(() => {
      const direct = this.network.directBaseUrl(baseUrl)
      if (direct) this.wire.baseUrl = this.clock.baseUrl = direct
    })
    this.clients = Object.fromEntries(
      TRANSPORTS.map((t) => [t, createChatClient(t, { baseUrl, name: '', room: this.room })]),
    ) as Record<TransportName, ChatClient>
    // Each reading of the meter asks for the streams this page's clients were last welcomed on.
    this.wire = new WireStore(baseUrl, () =>
      Object.fromEntries(TRANSPORTS.map((t) => [t, this.clients[t].connectionId])),
    )
    // Asked before the name prompt is answered, so that the panels join with their sticky values from the first request.
    this.cluster.addEventListener('change', () => this.applyCluster())
    this.clusterRead = this.cluster.start()
    this.wire.addEventListener('reachability', () => {
      if (this.wire.reachable) for (const client of Object.values(this.clients)) client.retryNow()
    })
    for (const transport of TRANSPORTS) {
      const client = this.clients[transport]
      client.on('error', ({ detail }) => {
        if (detail.code === 'LAB_ERR_AUTH') void this.tokenLost(detail.message)
      })
      // A refusal a browser does not show a script (a WebSocket upgrade's 401, an EventSource's): ask the server.
      client.on('state', ({ detail }) => {
        if (detail === 'reconnecting' && this.auth?.classCode) void this.probeSession()
      })
      client.on('entry', ({ detail }) => {
        const { entry, receivedAt } = detail
        if (entry.type !== 'message') return
        if (this.crossings.add(transport, entry, client.welcome?.instance, detail.backfilled))
          this.dispatchEvent(new Event('crossing'))
        const sent = this.ownSent(entry)
        if (!sent) return
        // Sent and received on this page's clock, stamped on the server's in between: it tells the clocks' offset.
        this.clock.add({ sentAt: sent.sentAt, serverAt: entry.serverAt, receivedAt })
        this.latency.push({ transport, via: sent.via, ms: receivedAt - sent.sentAt, at: receivedAt, text: entry.text })
        if (this.latency.length > LATENCY_KEPT) this.latency.splice(0, this.latency.length - LATENCY_KEPT)
        this.dispatchEvent(new Event('latency'))
      })
    }
  }

  start(name: string): void {
    this.name = name
    this.started = true
    for (const client of Object.values(this.clients)) client.name = name
    // Behind a balancer the first request already carries the panel's sticky value: a polling session or an
    // SSE stream opened without it could land on one instance and its next request on another.
    void this.clusterRead.then(() => {
      for (const client of Object.values(this.clients)) {
        if (!this.heldBack.has(client.transport) && client.state === 'idle' && !this.loggedOut) client.start()
      }
    })
    this.tabs.addEventListener('change', () => this.applyBudget())
    this.tabs.start()
    this.wire.start()
    this.clock.start()
    void this.readLimits()
  }

  /** Reads GET /api/auth (the page asks before its name prompt). */
  async readAuth(): Promise<AuthState> {
    this.auth = await readAuth(this.baseUrl)
    this.dispatchEvent(new Event('auth'))
    return this.auth
  }

  /**
   * Logs in with a code as `name`. A page that holds a session logs it out first (its connections
   * stop before, so that the server's ending them is not taken for a lost token), and stays out when
   * the login is refused: its clients rejoin once a login succeeds (resume()).
   */
  async login(code: string, name: string): Promise<LoginResult> {
    if (this.auth?.session) {
      this.loggedOut = true
      await this.stopAll()
      await logout(this.baseUrl)
      this.setSession(null)
    }
    const result = await login(this.baseUrl, code, name)
    if (result.ok) this.setSession(result.session)
    return result
  }

  /**
   * The instructor's login in the Instructor tab, under this page's name, without a logout: a wrong
   * code leaves the student's session as it was. With a class code the clients rejoin on the new
   * token, so that the student's, left unused, is not the one whose expiry ends them.
   */
  async loginAsInstructor(code: string): Promise<LoginResult> {
    const result = await login(this.baseUrl, code, this.name)
    if (!result.ok) return result
    this.setSession(result.session)
    if (this.started && this.auth?.classCode && !this.loggedOut) {
      await this.stopAll()
      this.restartAll()
    }
    return result
  }

  /** The header's Log out: every client stops, the server revokes the token, and the page asks again. */
  async logout(): Promise<void> {
    this.loggedOut = true
    await this.stopAll()
    await logout(this.baseUrl)
    this.setSession(null)
    if (this.auth?.classCode) {
      this.dispatchEvent(new CustomEvent('token-lost', { detail: 'You logged out.' }))
      return
    }
    // An open lab (an instructor who logs out): the page carries on without a token.
    this.loggedOut = false
    this.restartAll()
  }

  /** After a login: every client the tab may hold joins again, under the token's name, from where it was. */
  resume(name: string): void {
    this.name = name
    this.loggedOut = false
    this.restartAll()
  }

  private restartAll(): void {
    for (const client of Object.values(this.clients)) {
      client.name = this.name
      if (!this.heldBack.has(client.transport)) client.restartAs(this.name)
    }
  }

  private async stopAll(): Promise<void> {
    await Promise.all(Object.values(this.clients).map((client) => client.stop()))
  }

  /**
   * A transport was refused or ended for its token: all of them stop, and the page says so once. An open
   * lab (an instructor's token ran out) needs no login: the clients join again without it, at most once in
   * OPEN_LAB_REJOIN_MS, so that a token the server keeps refusing cannot make them rejoin in a loop.
   */
  private async tokenLost(reason: string): Promise<void> {
    if (this.loggedOut || !this.started) return
    this.loggedOut = true
    // The cookie lives as long as the token: once it has run out the browser sends none, and the server
    // can only say that a token is missing. The page knows when its login ends.
    const expiresAt = this.auth?.session?.expiresAt
    const expired = expiresAt !== undefined && expiresAt <= Date.now() + EXPIRY_SLACK_MS
    await this.stopAll()
    this.setSession(null)
    if (!this.auth?.classCode) {
      if (performance.now() - this.openLabRejoinedAt < OPEN_LAB_REJOIN_MS) return
      this.openLabRejoinedAt = performance.now()
      this.loggedOut = false
      this.restartAll()
      return
    }
    this.dispatchEvent(
      new CustomEvent('token-lost', {
        // The prompt adds its own "Log in again": the server's reason says it too.
        detail: expired
          ? 'Your login expired.'
          : `Your login ended: ${reason.replace(/[:;,.]?\s*log in again.*$/i, '')}.`,
      }),
    )
  }

  /** A client could not connect: when the server no longer knows this page's session, its token is gone. */
  private async probeSession(): Promise<void> {
    if (this.probing || this.loggedOut) return
    this.probing = true
    try {
      const auth = await readAuth(this.baseUrl)
      if (auth.classCode && !auth.session) await this.tokenLost(auth.problem ?? 'the server no longer knows you')
    } finally {
      this.probing = false
    }
  }

  private setSession(session: AuthState['session']): void {
    if (this.auth) this.auth = { ...this.auth, session }
    this.dispatchEvent(new Event('auth'))
  }

  /** A new name: every connected client leaves and joins again under it. */
  async rename(name: string): Promise<void> {
    this.name = name
    await Promise.all(Object.values(this.clients).map((client) => client.rename(name)))
  }

  /** A panel's extra query behind the cluster: its sticky value, and its pin when it has one. */
  queryFor(transport: TransportName): Record<string, string> {
    const node = this.pins[transport]
    return { sticky: this.sticky[transport], ...(node ? { node } : {}) }
  }

  /** Pins a panel to an instance (undefined: lets it go where its sticky value hashes); it reconnects there. */
  async pin(transport: TransportName, instance: string | undefined): Promise<void> {
    if (instance === undefined) delete this.pins[transport]
    else this.pins[transport] = instance
    this.dispatchEvent(new Event('pins'))
    await this.clients[transport].moveTo(this.queryFor(transport))
  }

  /**
   * The cluster's answer came: each client gets its panel's query. One already connected without it (the answer
   * was late, or the balancer came up after the page) moves, so each panel's session stays on one instance.
   */
  private applyCluster(): void {
    if (!this.cluster.clustered) return
    for (const transport of TRANSPORTS) {
      const query = this.queryFor(transport)
      const client = this.clients[transport]
      if (JSON.stringify(client.query) !== JSON.stringify(query)) void client.moveTo(query)
    }
  }

  /** Long polling or SSE is off in this tab: other tabs hold the browser's connections (the panel says so). */
  isOffHere(transport: TransportName): boolean {
    return this.tabs.decided && this.heldBack.has(transport)
  }

  /** Opens or closes the held transports as the count of tabs allows, and tells the panels. */
  private applyBudget(): void {
    for (const transport of HELD_TRANSPORTS) {
      const off = !this.tabs.holds
      if (off === this.heldBack.has(transport)) continue
      if (off) {
        this.heldBack.add(transport)
        this.stopWhenJoined(transport)
      } else {
        this.heldBack.delete(transport)
        if (!this.loggedOut) this.clients[transport].start()
      }
    }
    this.dispatchEvent(new Event('budget'))
  }

  /** A join under way is let finish first: stopped halfway, its session would stay in the room until its lease ran out. */
  private stopWhenJoined(transport: TransportName): void {
    const client = this.clients[transport]
    if (!this.heldBack.has(transport)) return
    if (client.state === 'connecting')
      client.addEventListener('state', () => this.stopWhenJoined(transport), { once: true })
    else void client.stop()
  }

  private async readLimits(): Promise<void> {
    try {
      const res = await fetch(`${this.baseUrl}/api/limits`)
      if (res.ok) this.textMaxBytes = ((await res.json()) as { textMaxBytes: number }).textMaxBytes
    } catch {
      // Unreachable for now: the default stands, and the server still has the last word on each send.
    }
  }

  /**
   * Sends over one transport, or over all five at once (five messages, one per transport), and says what
   * became of each: one transport's refusal or absence never hides what the others did.
   */
  async send(text: string, via: TransportName | 'all'): Promise<SendResult[]> {
    const transports = via === 'all' ? TRANSPORTS : [via]
    // The five copies of one message share a number and end in ALL_FIVE_MARK and their transport:
    // a panel on any page that runs this workbench folds them into one row.
    const together = via === 'all' ? `${++this.counter}${ALL_FIVE_MARK}` : ''
    return Promise.all(
      transports.map(async (t) => {
        if (this.heldBack.has(t))
          return { transport: t, outcome: { status: 'not-joined', state: this.clients[t].state, offHere: true } }
        const clientMsgId = together ? `${this.name}-${together}${t}` : `${this.name}-${++this.counter}-${t}`
        const sentAt = now()
        this.sent.set(clientMsgId, { sentAt, via: t })
        return { transport: t, outcome: await this.clients[t].send(text, { sentAt, clientMsgId }) }
      }),
    )
  }

  async switchRoom(room: string): Promise<void> {
    this.room = room
    // Before the name is chosen (a link that names a room) the clients only learn where to go.
    if (!this.started) {
      for (const client of Object.values(this.clients)) client.room = room
      this.dispatchEvent(new Event('room'))
      return
    }
    for (const transport of this.heldBack) this.clients[transport].room = room
    await Promise.all(
      Object.values(this.clients)
        .filter((c) => !this.heldBack.has(c.transport))
        .map((c) => c.switchRoom(room)),
    )
    this.dispatchEvent(new Event('room'))
  }

  /** permessage-deflate on the raw WebSocket: agreed in the handshake, so a connected client reconnects to change it. */
  setCompression(on: boolean): void {
    const client = this.clients.websocket
    if (client.compress === on) return
    client.compress = on
    if (this.started && client.state !== 'closed') client.reconnect()
  }

  /**
   * What a panel shows for a message it received: for one this page sent, its
   * sentAt to the receipt on this page's clock; for anyone else's, the
   * server's stamp to the receipt, across the two clocks (undefined until
   * their offset is known).
   */
  latencyOf(entry: ChatMessage, receivedAt: number): ReceivedLatency | undefined {
    return receivedLatency(
      { serverAt: entry.serverAt, ownSentAt: this.ownSent(entry)?.sentAt },
      receivedAt,
      this.clock.offset,
    )
  }

  /** How this page sent the message, when it did: its id and its sentAt, echoed back, must both be this page's. */
  private ownSent(entry: ChatMessage): Sent | undefined {
    const sent = entry.clientMsgId === undefined ? undefined : this.sent.get(entry.clientMsgId)
    return sent && sent.sentAt === entry.sentAt ? sent : undefined
  }
}

/** 8 random hex digits: crypto.getRandomValues works on a plain-http classroom address too (randomUUID does not). */
function randomHex(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('')
}
