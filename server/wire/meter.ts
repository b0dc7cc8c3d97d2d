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
//
// The same bytes are also counted per stream (a WebSocket, an SSE stream, a
// Socket.IO connection, a polling session), so that a page can read its own
// connection's figures rather than everyone's. A transport says which stream
// a request carries once it knows (a session resolved, an Engine.IO sid);
// from then on the socket's bytes count for that stream too, the request's
// head already read included, until the socket's next request.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

import { HandshakeLog } from './handshakes.ts'
import { keptNow, wallClock } from './kept-time.ts'
import { addTo, allOf, removeFrom, type OneOrMore } from './one-or-more.ts'
import { FrameLog, FRAMES_KEPT, watchFrames, type FrameRecorder } from './ws-frames.ts'
import {
  emptyTally,
  type ConnectionFrames,
  type ConnectionInfo,
  type ConnectionTallies,
  type Handshake,
  type HandshakeAuth,
  type StreamTally,
  type WireSnapshot,
  type WireTally,
} from './types.ts'

export type {
  ConnectionFrames,
  ConnectionInfo,
  ConnectionTallies,
  Handshake,
  HandshakeAuth,
  HandshakeSide,
  StreamTally,
  WireSnapshot,
  WireTally,
} from './types.ts'

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

/** One stream's counts, for the page that opened it (see StreamTally). */
export interface WireStream {
  /** Counts payload for this stream and for its transport: fetch it once per connection or session. */
  readonly recorder: WireRecorder
  /** The client address that opened it (behind a trusted proxy, the client's), the only one that may read it. */
  readonly address: string
  /** `req` carries this stream: its bytes from its first count here, and the socket's until its next request. */
  charge(req: IncomingMessage): void
  /** The stream ended: its counts are no longer served. */
  close(): void
}

interface SocketState {
  id: string
  /** The tally its bytes are settled to: the transport of its current request, OTHER included. */
  owner: string
  /**
   * The transport it counts as a connection of: the last one other than OTHER
   * that used it (OTHER only if nothing else has). A browser reuses one
   * keep-alive connection for its polls and for /api/wire or the page's
   * files in between: those do not take the connection from the transport.
   */
  holder: string | undefined
  readSettled: number
  writtenSettled: number
  openedAt: number
  upgraded: boolean
  /** The stream the current request carries, once its transport has said so. */
  stream: Stream | undefined
  /** Where the current request's bytes began. */
  current: RequestSpan | undefined
  /** Its WebSocket frames, once it has upgraded. */
  frames?: FrameLog
}

/** A request's bytes on its socket: from where they began to where the socket's next request began. */
interface RequestSpan {
  socket: MeteredSocket
  readStart: number
  writtenStart: number
  readEnd?: number
  writtenEnd?: number
  stream?: Stream
  /** The connection id a welcome named for the stream this request opened (see opened()). */
  openedAs?: string
}

const STREAM_COUNTS = [
  'bytesIn',
  'bytesOut',
  'payloadIn',
  'payloadOut',
  'plainIn',
  'plainOut',
  'messagesIn',
  'messagesOut',
  'requests',
] as const
type StreamCounts = Record<(typeof STREAM_COUNTS)[number], number>

/**
 * One stream's counts; it is also what the transport holds (its WireStream)
 * and counts payload through (its recorder), so that an idle connection keeps
 * one object here, with no closures of its own.
 */
class Stream implements WireStream, WireRecorder, StreamCounts {
  // Its counts are its own fields, not an object of their own (a 24-byte header and a field more per stream).
  bytesIn = 0
  bytesOut = 0
  payloadIn = 0
  payloadOut = 0
  plainIn = 0
  plainOut = 0
  messagesIn = 0
  messagesOut = 0
  requests = 0
  /** When it opened, as a kept time (see kept-time.ts). */
  readonly opened = keptNow()
  /** The connection id it is listed under: the one its latest welcome named. */
  listedAs: string | undefined
  closed = false
  /** Who may read it: the address that opened it. */
  readonly address: string
  /** Its meter and transport, shared by every stream of that transport: one field, not three (8 bytes each). */
  private readonly kind: StreamKind

  constructor(kind: StreamKind, address: string) {
    this.kind = kind
    this.address = address
  }

  get transport(): string {
    return this.kind.transport
  }

  get recorder(): WireRecorder {
    return this
  }

  charge(req: IncomingMessage): void {
    this.kind.meter.chargeStream(this, req)
  }

  close(): void {
    this.kind.meter.closeStream(this)
  }

  received(payloadBytes: number, messages = 1, plainBytes = payloadBytes): void {
    countReceived(this.kind.tally, payloadBytes, messages, plainBytes)
    countReceived(this, payloadBytes, messages, plainBytes)
  }

  sent(payloadBytes: number, messages = 1, plainBytes = payloadBytes): void {
    countSent(this.kind.tally, payloadBytes, messages, plainBytes)
    countSent(this, payloadBytes, messages, plainBytes)
  }
}

/** What the streams of one transport share: their meter, and the transport's counters, which their payload counts for too. */
interface StreamKind {
  readonly meter: WireMeter
  readonly transport: string
  readonly tally: Counters
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
  private readonly streamKinds = new Map<string, StreamKind>()
  private readonly handshakeLog = new HandshakeLog((id) => this.sockets.has(id))
  /** Open streams, listed or not yet. */
  private readonly streams = new Set<Stream>()
  /** Connection id (as a welcome named it) -> the streams opened there, one per transport (nearly always one). */
  private readonly listed = new Map<string, OneOrMore<Stream>>()
  /** Connection id (as a welcome named it) -> the frames of the WebSocket its stream runs on. */
  private readonly frameLogs = new Map<string, FrameLog>()
  /** Listed frame logs whose connection closed, oldest first: the last FRAME_LOGS_CLOSED_KEPT stay readable. */
  private readonly closedFrameLogs = new Map<FrameLog, string>()
  private nextId = 1
  /** Every tracked socket's 'close' listener: one function for all of them, not a closure each. */
  private readonly socketClosed: (this: MeteredSocket) => void
  /** Every response's 'finish' listener, likewise. */
  private readonly responseFinished: (this: ServerResponse) => void

  private readonly whoOpened: (req: IncomingMessage) => HandshakeAuth | undefined
  private readonly ownerAddress: (req: IncomingMessage) => string

  /**
   * `classify` names the transport that owns a request URL, or OTHER;
   * `whoOpened` the principal whose token a stream's opening request carried,
   * which its handshake shows; `ownerAddress` the client address a request
   * comes from (behind a trusted proxy, not the socket's), the only one that
   * may read a stream's figures, handshakes and frames.
   */
  constructor(
    classify: (url: string) => string,
    whoOpened: (req: IncomingMessage) => HandshakeAuth | undefined = () => undefined,
    ownerAddress: (req: IncomingMessage) => string = (req) => req.socket.remoteAddress ?? '',
  ) {
    this.classify = classify
    this.whoOpened = whoOpened
    this.ownerAddress = ownerAddress
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const meter = this
    this.socketClosed = function (this: MeteredSocket) {
      meter.untrack(this)
    }
    this.responseFinished = function (this: ServerResponse) {
      const req = this.req as IncomingMessage | undefined
      if (!req) return
      if (req.socket) meter.settle(req.socket)
      meter.handshakeLog.finished(req)
    }
  }

  track(socket: Socket): void {
    const metered = socket as MeteredSocket
    const state: SocketState = {
      id: `c${this.nextId++}`,
      owner: OTHER,
      holder: undefined,
      readSettled: 0,
      writtenSettled: 0,
      openedAt: Date.now(),
      upgraded: false,
      stream: undefined,
      current: undefined,
    }
    metered[kState] = state
    this.sockets.set(state.id, metered)
    // 'close' comes once: on() rather than once(), which would wrap the listener for each socket.
    socket.on('close', this.socketClosed)
  }

  private untrack(socket: MeteredSocket): void {
    const state = socket[kState]
    if (!state || !this.sockets.has(state.id)) return
    this.settle(socket)
    this.endSpan(state)
    this.sockets.delete(state.id)
    this.handshakeLog.closed(state.id)
    if (state.frames) this.retireFrames(state.frames)
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
      this.begin(req, socket, state, transport)
      this.settleRead(socket, state)
      // One listener function for every response ('finish' comes once): no closure per request.
      res.on('finish', this.responseFinished)
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
      this.begin(req, metered, state, transport)
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
    // From the 101 on, the socket carries frames: the inspector's frame view reads their headers.
    const state = (req.socket as MeteredSocket)[kState]
    if (state && !state.frames) {
      state.frames = new FrameLog(this.ownerAddress(req), true)
      watchFrames(req.socket, state.frames)
    }
  }

  /**
   * Under permessage-deflate the payload is what the frames carried, compressed: from now on `req`'s
   * WebSocket counts its frames' data into `recorder`. False for a socket this meter does not watch.
   */
  countFramePayload(req: IncomingMessage, recorder: FrameRecorder): boolean {
    const frames = (req.socket as MeteredSocket)[kState]?.frames
    if (frames) frames.recorder = recorder
    return frames !== undefined
  }

  /** The frames of the WebSocket a stream opened on `connectionId` runs on; only for the address that opened it. */
  connectionFrames(connectionId: string, address: string): ConnectionFrames | undefined {
    const log = this.frameLogs.get(connectionId)
    if (!log || log.address !== address) return undefined
    return {
      connectionId,
      open: log.open,
      frames: log.frames(),
      kept: FRAMES_KEPT,
      seen: log.seen,
    }
  }

  /**
   * A transport opened a client's stream with `req`: the request whose answer
   * is the welcome (the SSE GET, a polling join), or the upgrade or first
   * request before it. Its exchange becomes the handshake served for that
   * connection (see handshakes.ts). Returns the connection id the welcome
   * names, or undefined when the socket is not metered.
   */
  opened(transport: string, req: IncomingMessage): string | undefined {
    if (!(req.socket as MeteredSocket)[kState]) return undefined
    const connectionId = this.handshakeLog.opened(transport, req, this.ownerAddress(req), this.whoOpened(req))
    const span = (req as SpannedRequest)[kSpan]
    if (span && connectionId !== undefined) {
      span.openedAs = connectionId
      if (span.stream) this.list(span.stream, connectionId)
    }
    const frames = (req.socket as MeteredSocket)[kState]!.frames
    if (frames && connectionId !== undefined) this.listFrames(frames, connectionId)
    return connectionId
  }

  /**
   * The head of `req`'s response is written while the response goes on (an SSE stream): its handshake, when
   * pinned, is read now rather than when the response ends, and the response is let go. Reading it also
   * flattens the head Node keeps (res._header, built by concatenation: a rope of about twenty pieces held as
   * long as the stream, 400 B of every idle stream, npm run bench:heap).
   */
  headWritten(req: IncomingMessage): void {
    this.handshakeLog.finished(req)
  }

  /** The stream `from` opened carries on over `to`, on another connection (Engine.IO's upgrade). */
  continued(from: IncomingMessage, to: IncomingMessage): void {
    this.handshakeLog.continued(from, to)
    const frames = (to.socket as MeteredSocket)[kState]?.frames
    if (frames) this.listFrames(frames, this.connectionId(from.socket))
  }

  /** The handshakes of the streams opened on one connection, by transport; only for the address that opened them (any, for the instructor). */
  connectionHandshakes(connectionId: string, address: string | undefined): Record<string, Handshake> | undefined {
    return this.handshakeLog.ofConnection(connectionId, address)
  }

  /** How many connections' handshakes are kept (the open ones and the last closed ones). */
  get handshakesKept(): number {
    return this.handshakeLog.connectionsKept
  }

  /**
   * A stream opened with `req` (charged to it): a WebSocket, an SSE session,
   * an Engine.IO session, a polling session. It is listed under the
   * connection id of the welcome that names the request it opened with
   * (opened()), for the address that opened it, until it is closed.
   */
  openStream(transport: string, req: IncomingMessage): WireStream {
    let kind = this.streamKinds.get(transport)
    if (!kind) this.streamKinds.set(transport, (kind = { meter: this, transport, tally: this.tally(transport) }))
    const stream = new Stream(kind, this.ownerAddress(req))
    this.streams.add(stream)
    this.chargeStream(stream, req)
    return stream
  }

  /**
   * The streams listed under these connection ids, by transport, that `address`
   * opened: a page's own connections (every address's, for the instructor:
   * `address` undefined). Ids unknown, closed or another address's are left out.
   */
  connectionTallies(connectionIds: Iterable<string>, address: string | undefined): ConnectionTallies {
    for (const socket of this.sockets.values()) if (socket[kState]!.stream?.closed === false) this.settle(socket)
    const result: ConnectionTallies = {}
    for (const id of connectionIds) {
      for (const stream of allOf(this.listed, id)) {
        if (address !== undefined && stream.address !== address) continue
        ;(result[id] ??= {})[stream.transport] = toStreamTally(stream)
      }
    }
    return result
  }

  /**
   * Every count back to zero, for everyone (the instructor's reset): bytes,
   * payload, messages, requests, connections opened, each transport's and each
   * stream's. States stay as they are: connections open, requests held.
   */
  reset(): void {
    for (const socket of this.sockets.values()) this.settle(socket)
    for (const counters of this.counters.values()) {
      const held = counters.requestsHeld
      Object.assign(counters, emptyCounters(), { requestsHeld: held })
    }
    for (const stream of this.streams) for (const key of STREAM_COUNTS) stream[key] = 0
  }

  /**
   * What a transport calls on its hot path: one call per frame or body, with
   * the transport's counters looked up once, when the transport starts.
   */
  recorder(transport: string): WireRecorder {
    return new TallyRecorder(this.tally(transport))
  }

  /**
   * Long polls waiting and SSE streams open: requests the server is holding. The caller leaves each hold it
   * entered once: an idle stream or held poll keeps nothing for it, where a release closure would be kept
   * for as long as the client is idle.
   */
  enterHold(transport: string): void {
    this.tally(transport).requestsHeld++
  }

  leaveHold(transport: string): void {
    this.tally(transport).requestsHeld--
  }

  /** enterHold() with a release to call (again is harmless), for a caller that keeps closures anyway (the baselines). */
  hold(transport: string): () => void {
    this.enterHold(transport)
    let released = false
    return () => {
      if (released) return
      released = true
      this.leaveHold(transport)
    }
  }

  snapshot(): WireSnapshot {
    const open = new Map<string, number>()
    for (const socket of this.sockets.values()) {
      this.settle(socket)
      const holder = socket[kState]!.holder ?? OTHER
      open.set(holder, (open.get(holder) ?? 0) + 1)
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
        transport: state.holder ?? OTHER,
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

  /** From `req` on, the socket's bytes count for `stream` too (see WireStream.charge). For Stream only. */
  chargeStream(stream: Stream, req: IncomingMessage): void {
    const span = (req as SpannedRequest)[kSpan]
    if (!span || span.stream || stream.closed) return
    span.stream = stream
    stream.requests++
    const state = span.socket[kState]!
    if (state.current === span) {
      // Still the socket's request: what it read and wrote so far now, the rest as it settles.
      this.settle(span.socket)
      stream.bytesIn += state.readSettled - span.readStart
      stream.bytesOut += state.writtenSettled - span.writtenStart
      state.stream = stream
    } else {
      stream.bytesIn += (span.readEnd ?? span.readStart) - span.readStart
      stream.bytesOut += (span.writtenEnd ?? span.writtenStart) - span.writtenStart
    }
    if (span.openedAs !== undefined) this.list(stream, span.openedAs)
  }

  /** For Stream only. */
  closeStream(stream: Stream): void {
    if (stream.closed) return
    // Sockets still charging it stop at their next settle: nobody reads it any more.
    stream.closed = true
    this.streams.delete(stream)
    this.unlist(stream)
  }

  /**
   * A request begins on a socket whose earlier bytes are settled (written) up
   * to it: the previous request's span ends, this one's starts, and no stream
   * is charged until its transport names one.
   */
  private begin(req: IncomingMessage, socket: MeteredSocket, state: SocketState, transport: string): void {
    this.endSpan(state)
    const span: RequestSpan = { socket, readStart: state.readSettled, writtenStart: state.writtenSettled }
    ;(req as SpannedRequest)[kSpan] = span
    state.current = span
    state.stream = undefined
    state.owner = transport
    if (transport === OTHER && state.holder !== undefined) return
    if (state.holder !== transport) this.tally(transport).connectionsTotal++
    state.holder = transport
  }

  private endSpan(state: SocketState): void {
    const span = state.current
    if (!span) return
    span.readEnd = state.readSettled
    span.writtenEnd = state.writtenSettled
    state.current = undefined
  }

  private listFrames(log: FrameLog, connectionId: string): void {
    this.frameLogs.set(connectionId, log)
    log.listedAs = connectionId
    if (!log.open) this.retireFrames(log)
  }

  private retireFrames(log: FrameLog): void {
    if (log.listedAs === undefined) return
    this.closedFrameLogs.set(log, log.listedAs)
    for (const [oldest, key] of this.closedFrameLogs) {
      if (this.closedFrameLogs.size <= FRAME_LOGS_CLOSED_KEPT) break
      this.closedFrameLogs.delete(oldest)
      if (this.frameLogs.get(key) === oldest) this.frameLogs.delete(key)
    }
  }

  private list(stream: Stream, connectionId: string): void {
    if (stream.closed || stream.listedAs === connectionId) return
    this.unlist(stream)
    const replaced = allOf(this.listed, connectionId).find((other) => other.transport === stream.transport)
    if (replaced) this.unlist(replaced)
    addTo(this.listed, connectionId, stream)
    stream.listedAs = connectionId
  }

  private unlist(stream: Stream): void {
    const id = stream.listedAs
    if (id === undefined) return
    stream.listedAs = undefined
    removeFrom(this.listed, id, stream)
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
      if (state.stream && !state.stream.closed) state.stream.bytesIn += read - state.readSettled
      state.readSettled = read
    }
  }

  private settleWritten(socket: Socket, state: SocketState): void {
    const written = socket.bytesWritten
    if (written > state.writtenSettled) {
      this.tally(state.owner).bytesOut += written - state.writtenSettled
      if (state.stream && !state.stream.closed) state.stream.bytesOut += written - state.writtenSettled
      state.writtenSettled = written
    }
  }

  private tally(transport: string): Counters {
    let counters = this.counters.get(transport)
    if (!counters) {
      counters = emptyCounters()
      this.counters.set(transport, counters)
    }
    return counters
  }
}

/** Frame logs of closed connections kept for pages that look after the close (a 1003 is worth seeing). */
export const FRAME_LOGS_CLOSED_KEPT = 64

const kSpan = Symbol('wireMeterSpan')
type SpannedRequest = IncomingMessage & { [kSpan]?: RequestSpan }

type PayloadCounts = Pick<Counters, 'payloadIn' | 'payloadOut' | 'plainIn' | 'plainOut' | 'messagesIn' | 'messagesOut'>

function countReceived(tally: PayloadCounts, payloadBytes: number, messages: number, plainBytes: number): void {
  tally.payloadIn += payloadBytes
  tally.plainIn += plainBytes
  tally.messagesIn += messages
}

function countSent(tally: PayloadCounts, payloadBytes: number, messages: number, plainBytes: number): void {
  tally.payloadOut += payloadBytes
  tally.plainOut += plainBytes
  tally.messagesOut += messages
}

/** Counts payload into a transport's tally. */
class TallyRecorder implements WireRecorder {
  private readonly tally: PayloadCounts

  constructor(tally: PayloadCounts) {
    this.tally = tally
  }

  received(payloadBytes: number, messages = 1, plainBytes = payloadBytes): void {
    countReceived(this.tally, payloadBytes, messages, plainBytes)
  }

  sent(payloadBytes: number, messages = 1, plainBytes = payloadBytes): void {
    countSent(this.tally, payloadBytes, messages, plainBytes)
  }
}

function emptyCounters(): Counters {
  const { overheadIn: _in, overheadOut: _out, connectionsOpen: _open, ...counters } = emptyTally()
  return counters
}

/** Payload is counted when framed, bytes when they reach the socket: for a moment a frame can be counted as payload before its bytes are written. */
function overhead(c: Pick<Counters, 'bytesIn' | 'bytesOut' | 'payloadIn' | 'payloadOut'>) {
  return { overheadIn: Math.max(0, c.bytesIn - c.payloadIn), overheadOut: Math.max(0, c.bytesOut - c.payloadOut) }
}

function toStreamTally(stream: Stream): StreamTally {
  const counts = Object.fromEntries(STREAM_COUNTS.map((key) => [key, stream[key]])) as StreamCounts
  return { openedAt: wallClock(stream.opened), ...counts, ...overhead(stream) }
}

function toTally(c: Counters, connectionsOpen: number): WireTally {
  return {
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
    payloadIn: c.payloadIn,
    payloadOut: c.payloadOut,
    plainIn: c.plainIn,
    plainOut: c.plainOut,
    ...overhead(c),
    connectionsOpen,
    connectionsTotal: c.connectionsTotal,
    requestsHeld: c.requestsHeld,
    httpRequests: c.httpRequests,
    messagesIn: c.messagesIn,
    messagesOut: c.messagesOut,
  }
}
