// The page's model: who I am, which room, one client per transport, what this
// page sent (so latency can be measured on one clock), and the wire meter.
import { TRANSPORTS, type TransportName } from '../../../server/core/names.ts'
import { createChatClient, type ChatClient } from '../clients/index.ts'
import { now } from '../clock.ts'
import { WireStore } from './wire-store.ts'

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
  /** clientMsgId -> when and how this page sent it. */
  readonly sent = new Map<string, Sent>()
  readonly latency: LatencySample[] = []
  private counter = 0
  private started = false

  constructor(baseUrl = location.origin) {
    super()
    this.baseUrl = baseUrl
    this.wire = new WireStore(baseUrl)
    this.clients = Object.fromEntries(
      TRANSPORTS.map((t) => [t, createChatClient(t, { baseUrl, name: '', room: this.room })]),
    ) as Record<TransportName, ChatClient>
    for (const transport of TRANSPORTS) {
      this.clients[transport].on('entry', ({ detail }) => {
        const { entry, receivedAt } = detail
        if (entry.type !== 'message' || !entry.clientMsgId) return
        const sent = this.sent.get(entry.clientMsgId)
        if (!sent || entry.sentAt === undefined) return
        this.latency.push({ transport, via: sent.via, ms: receivedAt - entry.sentAt, at: receivedAt, text: entry.text })
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

  /** Latency of a message this page sent, as received by `transport`'s panel. */
  latencyOf(clientMsgId: string | undefined, sentAt: number | undefined, receivedAt: number): number | undefined {
    if (!clientMsgId || sentAt === undefined || !this.sent.has(clientMsgId)) return undefined
    return receivedAt - sentAt
  }
}
