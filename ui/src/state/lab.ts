// The page's model: who I am, which room, one client per transport, what this
// page sent (so its own messages' latency is measured on one clock), how far
// the server's clock is from the page's (so everyone else's can be given one
// too), and the wire meter.
import type { ChatMessage } from '../../../server/core/protocol.ts'
import { TRANSPORTS, type TransportName } from '../../../server/core/names.ts'
import { createChatClient, type ChatClient } from '../clients/index.ts'
import { now } from '../clock.ts'
import { receivedLatency, type ReceivedLatency } from '../latency.ts'
import { NetworkStore } from './network.ts'
import { ServerClock } from './server-clock.ts'
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

const LATENCY_KEPT = 500

export class Lab extends EventTarget {
  name = ''
  room = 'lobby'
  readonly baseUrl: string
  readonly clients: Record<TransportName, ChatClient>
  readonly wire: WireStore
  readonly clock: ServerClock
  /** The network this page is behind: its origin's port says which. */
  readonly network: NetworkStore
  /** clientMsgId -> when and how this page sent it. */
  readonly sent = new Map<string, Sent>()
  readonly latency: LatencySample[] = []
  private counter = 0
  private started = false

  constructor(baseUrl = location.origin) {
    super()
    this.baseUrl = baseUrl
    this.clock = new ServerClock(baseUrl)
    this.network = new NetworkStore(baseUrl)
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
    this.wire.addEventListener('reachability', () => {
      if (this.wire.reachable) for (const client of Object.values(this.clients)) client.retryNow()
    })
    for (const transport of TRANSPORTS) {
      this.clients[transport].on('entry', ({ detail }) => {
        const { entry, receivedAt } = detail
        if (entry.type !== 'message') return
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
    for (const client of Object.values(this.clients)) {
      client.name = name
      client.start()
    }
    this.wire.start()
    this.clock.start()
  }

  /** Sends over one transport, or over all five at once (five messages, one per transport). */
  async send(text: string, via: TransportName | 'all'): Promise<void> {
    const transports = via === 'all' ? TRANSPORTS : [via]
    await Promise.all(
      transports.map((t) => {
        const clientMsgId = `${this.name}-${++this.counter}-${t}`
        const sentAt = now()
        this.sent.set(clientMsgId, { sentAt, via: t })
        return this.clients[t].send(text, { sentAt, clientMsgId })
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
    await Promise.all(Object.values(this.clients).map((c) => c.switchRoom(room)))
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
