// Byte accounting at the TCP socket. Totals come from socket.bytesRead and
// socket.bytesWritten, so they match what a packet capture sees (TCP payload).
// Each transport reports how many of those bytes were payload (the chat JSON
// it framed); everything else on its sockets is overhead: request and status
// lines, headers, chunked framing, SSE field names, WebSocket frame headers and
// masks, Engine.IO/Socket.IO packet prefixes, pings.
//
// A keep-alive socket can carry requests for several transports one after the
// other, so bytes are settled to the socket's current owner at every boundary:
// when a request arrives, when its response finishes, when the socket closes,
// and whenever a snapshot is taken.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

import { HandshakeLog } from './handshakes.ts'
import { emptyTally, type ConnectionInfo, type Handshake, type WireSnapshot, type WireTally } from './types.ts'

export type { ConnectionInfo, Handshake, HandshakeSide, WireSnapshot, WireTally } from './types.ts'

export interface WireRecorder {
  /**
   * A client message arrived: its payload bytes (the chat JSON inside the
   * framing). Under compression the frames' compressed bytes are the payload
   * and `plainBytes` what they inflate to; a caller that learns the two at
   * different moments says each on its own (the other as 0, messages once).
   */
  received(payloadBytes: number, messages?: number, plainBytes?: number): void
  /** Messages left for a client: their payload bytes, and their size before compression. */
  sent(payloadBytes: number, messages?: number, plainBytes?: number): void
}
export const OTHER = 'other'

interface SocketState {
  id: string
  owner: string
  readSettled: number
  writtenSettled: number
  openedAt: number
  upgraded: boolean
}

interface Counters {
  bytesIn: number
  bytesOut: number
  payloadIn: number
  payloadOut: number
  plainIn: number
  plainOut: number
  connectionsTotal: number
  requestsHeld: number
  httpRequests: number
  messagesIn: number
  messagesOut: number
}

const kState = Symbol('wireMeterState')
type MeteredSocket = Socket & { [kState]?: SocketState }

export class WireMeter {
  private readonly classify: (url: string) => string
  /** Open sockets by connection id. */
  private readonly sockets = new Map<string, MeteredSocket>()
  private readonly counters = new Map<string, Counters>()
  private readonly handshakeLog = new HandshakeLog((id) => this.sockets.has(id))
  private nextId = 1

  /** `classify` names the transport that owns a request URL, or OTHER. */
  constructor(classify: (url: string) => string) {
    this.classify = classify
  }

  track(socket: Socket): void {
    const metered = socket as MeteredSocket
    const state: SocketState = {
      id: `c${this.nextId++}`,
      owner: OTHER,
      readSettled: 0,
      writtenSettled: 0,
      openedAt: Date.now(),
      upgraded: false,
    }
    metered[kState] = state
    this.sockets.set(state.id, metered)
    socket.once('close', () => {
      this.settle(metered)
      this.sockets.delete(state.id)
      this.handshakeLog.closed(state.id)
    })
  }

  connectionId(socket: Socket): string {
    return (socket as MeteredSocket)[kState]?.id ?? '-'
  }

  transportOf(socket: Socket): string {
    return (socket as MeteredSocket)[kState]?.owner ?? OTHER
  }

  /** Call first thing for every HTTP request; returns the owning transport. */
  onRequest(req: IncomingMessage, res: ServerResponse): string {
    const socket = req.socket as MeteredSocket
    const transport = this.classify(req.url ?? '/')
    const state = socket[kState]
    if (state) {
      this.settleWritten(socket, state)
      this.assign(state, transport)
      this.settleRead(socket, state)
      res.once('finish', () => this.settle(socket))
    }
    this.tally(transport).httpRequests++
    if (transport !== OTHER) this.handshakeLog.request(transport, state?.id ?? '-', req, res)
    return transport
  }

  onUpgrade(req: IncomingMessage, socket: Socket): string {
    const metered = socket as MeteredSocket
    const transport = this.classify(req.url ?? '/')
    const state = metered[kState]
    if (state) {
      this.settleWritten(metered, state)
      this.assign(state, transport)
      state.upgraded = true
      this.settleRead(metered, state)
    }
    this.tally(transport).httpRequests++
    this.handshakeLog.upgrade(transport, state?.id ?? '-', req)
    return transport
  }

  /** The 101 as ws wrote it (its 'headers' event hands over the exact lines). */
  onUpgradeResponse(req: IncomingMessage, lines: string[]): void {
    this.handshakeLog.upgradeResponse(req, this.transportOf(req.socket), lines)
  }

  /**
   * A transport opened a client's stream with `req`: the request whose answer
   * is the welcome (the SSE GET, a polling join), or the upgrade or first
   * request before it. Its exchange becomes the handshake served for that
   * connection (see handshakes.ts). Returns the connection id the welcome
   * names, or undefined when the socket is not metered.
   */
  opened(transport: string, req: IncomingMessage): string | undefined {
    return (req.socket as MeteredSocket)[kState] ? this.handshakeLog.opened(transport, req) : undefined
  }

  /** The stream `from` opened carries on over `to`, on another connection (Engine.IO's upgrade). */
  continued(from: IncomingMessage, to: IncomingMessage): void {
    this.handshakeLog.continued(from, to)
  }

  /** The handshakes of the streams opened on one connection, by transport; only for the address that opened them. */
  connectionHandshakes(connectionId: string, address: string): Record<string, Handshake> | undefined {
    return this.handshakeLog.ofConnection(connectionId, address)
  }

  /** How many connections' handshakes are kept (the open ones and the last closed ones). */
  get handshakesKept(): number {
    return this.handshakeLog.connectionsKept
  }

  /**
   * What a transport calls on its hot path: one call per frame or body, with
   * the transport's counters looked up once, when the transport starts.
   */
  recorder(transport: string): WireRecorder {
    const tally = this.tally(transport)
    return {
      received(payloadBytes: number, messages = 1, plainBytes = payloadBytes) {
        tally.payloadIn += payloadBytes
        tally.plainIn += plainBytes
        tally.messagesIn += messages
      },
      sent(payloadBytes: number, messages = 1, plainBytes = payloadBytes) {
        tally.payloadOut += payloadBytes
        tally.plainOut += plainBytes
        tally.messagesOut += messages
      },
    }
  }

  /** Long polls waiting and SSE streams open: requests the server is holding. */
  hold(transport: string): () => void {
    const tally = this.tally(transport)
    tally.requestsHeld++
    let released = false
    return () => {
      if (released) return
      released = true
      tally.requestsHeld--
    }
  }

  snapshot(): WireSnapshot {
    const open = new Map<string, number>()
    for (const socket of this.sockets.values()) {
      this.settle(socket)
      const owner = socket[kState]!.owner
      open.set(owner, (open.get(owner) ?? 0) + 1)
    }
    const transports: Record<string, WireTally> = {}
    const total = emptyTally()
    for (const [name, counters] of this.counters) {
      const tally = toTally(counters, open.get(name) ?? 0)
      transports[name] = tally
      for (const key of Object.keys(total) as Array<keyof WireTally>) total[key] += tally[key]
    }
    return { at: Date.now(), transports, total }
  }

  connections(limit = 200): ConnectionInfo[] {
    const list: ConnectionInfo[] = []
    for (const socket of this.sockets.values()) {
      if (list.length >= limit) break
      const state = socket[kState]!
      // No client address: the list is public, and who connected from where is not anyone else's business.
      list.push({
        connectionId: state.id,
        transport: state.owner,
        openedAt: state.openedAt,
        bytesIn: socket.bytesRead,
        bytesOut: socket.bytesWritten,
        upgraded: state.upgraded,
      })
    }
    return list
  }

  /**
   * Clients (undici among them) open spare connections before they have a
   * request to send. Node's server.close() waits for those like for any other,
   * so shutdown closes them at once: nothing was ever asked on them.
   */
  destroyUnused(): number {
    let destroyed = 0
    for (const socket of this.sockets.values()) {
      if (socket.bytesRead === 0) {
        socket.destroy()
        destroyed++
      }
    }
    return destroyed
  }

  /** The latest handshake per transport from any client: its upgrade when it has one, else its last HTTP exchange. */
  handshakes(): Record<string, Handshake> {
    return this.handshakeLog.all()
  }

  private assign(state: SocketState, transport: string): void {
    if (state.owner !== transport) this.tally(transport).connectionsTotal++
    state.owner = transport
  }

  private settle(socket: MeteredSocket): void {
    const state = socket[kState]
    if (!state) return
    this.settleRead(socket, state)
    this.settleWritten(socket, state)
  }

  private settleRead(socket: Socket, state: SocketState): void {
    const read = socket.bytesRead
    if (read > state.readSettled) {
      this.tally(state.owner).bytesIn += read - state.readSettled
      state.readSettled = read
    }
  }

  private settleWritten(socket: Socket, state: SocketState): void {
    const written = socket.bytesWritten
    if (written > state.writtenSettled) {
      this.tally(state.owner).bytesOut += written - state.writtenSettled
      state.writtenSettled = written
    }
  }

  private tally(transport: string): Counters {
    let counters = this.counters.get(transport)
    if (!counters) {
      counters = {
        bytesIn: 0,
        bytesOut: 0,
        payloadIn: 0,
        payloadOut: 0,
        plainIn: 0,
        plainOut: 0,
        connectionsTotal: 0,
        requestsHeld: 0,
        httpRequests: 0,
        messagesIn: 0,
        messagesOut: 0,
      }
      this.counters.set(transport, counters)
    }
    return counters
  }
}

function toTally(c: Counters, connectionsOpen: number): WireTally {
  return {
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    payloadIn: c.payloadIn,
    payloadOut: c.payloadOut,
    plainIn: c.plainIn,
    plainOut: c.plainOut,
    // Payload is counted when framed, bytes when they reach the socket: for a
    // moment a frame can be counted as payload before its bytes are written.
    overheadIn: Math.max(0, c.bytesIn - c.payloadIn),
    overheadOut: Math.max(0, c.bytesOut - c.payloadOut),
    connectionsOpen,
    connectionsTotal: c.connectionsTotal,
    requestsHeld: c.requestsHeld,
    httpRequests: c.httpRequests,
    messagesIn: c.messagesIn,
    messagesOut: c.messagesOut,
  }
}
