// The inspector's view of how each stream opened. The heads are kept as they
// crossed the wire, header names and order included, except that credentials
// are redacted before a head is kept. A request's head is read from it when
// first needed (most polls are never shown), a response's once it has been
// written. Two views of them:
//
// - Per connection: a transport pins the request that opened a client's
//   stream (the SSE GET, the /ws upgrade and its 101, a polling join,
//   Engine.IO's first request, followed to its upgrade) when it writes the
//   welcome, and the welcome names that TCP connection (`connectionId`). A
//   page asks for its own handshakes by that id, and they are served only to
//   the address that opened them. Later requests on the connection (an SSE
//   send, a poll) never replace a pinned handshake; only another stream
//   opened there does. Kept while the connection they follow is open, then
//   among the last CLOSED_CONNECTIONS_KEPT closed ones, so memory stays
//   bounded whatever clients do.
// - Per transport: the latest exchange from anyone (its upgrade when it has
//   one), for the server's own machine: the benchmarks read it.
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'

import { keptNow, wallClock } from './kept-time.ts'
import { addTo, allOf, removeFrom, type OneOrMore } from './one-or-more.ts'
import { offersBearer, redactHeader, redactUrl } from './redact.ts'
import type { Handshake, HandshakeAuth, HandshakeSide } from './types.ts'
/** Handshakes of closed connections kept for pages that ask late (a page's current connection is always kept). */
export const CLOSED_CONNECTIONS_KEPT = 256

/**
 * A head as kept: its start line, then one line per header (name, a newline,
 * value), redacted, each line interned (see internLine). An idle connection
 * keeps its handshake for as long as it lives, and the heads of a class's
 * clients differ in a line or two (a key, a length, a date): each distinct
 * line is kept once, however many heads hold it, and a head is an array of
 * references to them.
 */
type Head = readonly string[]

/**
 * Distinct lines the table keeps; past this it starts over (the heads keep their lines). Small, because it
 * also keeps the lines no other head will share (a key, a name in a URL) until it starts over: a line
 * that is shared comes back after a start-over with the next head that has it.
 */
export const LINES_INTERNED = 256
/** A longer line is kept as it came, unshared: it is seldom anyone else's, and the table stays small. */
export const LINE_INTERNED_MAX_CHARS = 256
const interned = new Map<string, string>()

/** How many lines the table keeps now. */
export const internedLines = (): number => interned.size

/** The one string kept for a line equal to `line`, which is kept from now on if none was. */
export function internLine(line: string): string {
  if (line.length > LINE_INTERNED_MAX_CHARS) return line
  const kept = interned.get(line)
  if (kept !== undefined) return kept
  if (interned.size >= LINES_INTERNED) interned.clear()
  interned.set(line, line)
  return line
}

/**
 * One request and its response, and once pinned (see HandshakeLog.opened) the
 * stream they opened: a pinned one is kept for as long as that stream lives,
 * so it is one object, its fields all set in the constructor (a field added
 * later goes to a property array of its own, 40 bytes), its two heads
 * share one array, and a field holds two things where it can (8 bytes each).
 */
class Exchange {
  /** When the request came, as a kept time (see kept-time.ts). */
  readonly at = keptNow()
  readonly connectionId: string
  /**
   * What is still to be read, then let go: an HTTP exchange's response (its request is `res.req`, read for its
   * head when first needed: most polls are neither pinned nor read), an upgrade's request. One field for both.
   */
  source: ServerResponse | IncomingMessage | undefined
  /** The request's lines, then the response's once it has been read (see responseOf). */
  lines: Head | undefined
  /** Twice the number of `lines` that are the request's (0 while the response has not been read), plus 1 for an upgrade. */
  private shape: number
  /** Where the stream this exchange opened went on: Engine.IO's upgrade, on another connection. */
  next: Exchange | undefined = undefined
  /** Pinned: the transport of the stream it opened; undefined while it is not pinned. */
  transport: string | undefined = undefined
  /** Pinned: who may read it, the address that opened it. */
  address: string | undefined = undefined
  /** Pinned: the connection whose life the record follows, the one the shown exchange is on. */
  holder: string | undefined = undefined
  /** Pinned: who the stream's token named, and where it travelled; never the token. */
  auth: HandshakeAuth | undefined = undefined

  /** `res`: an HTTP exchange's response; an upgrade has none. */
  constructor(connectionId: string, req: IncomingMessage, res: ServerResponse | undefined) {
    this.connectionId = connectionId
    this.source = res ?? req
    this.lines = undefined
    this.shape = res === undefined ? 1 : 0
  }

  get upgrade(): boolean {
    return (this.shape & 1) === 1
  }

  /** How many of `lines` are the request's: the response's follow; 0 while it has not been read. */
  get requestLines(): number {
    return this.shape >> 1
  }

  set requestLines(count: number) {
    this.shape = (count << 1) | (this.shape & 1)
  }
}

/** An exchange pinned as the handshake of the stream it opened; the connection named in its welcome is its own. */
type Pin = Exchange & { transport: string; address: string; holder: string }

const kExchange = Symbol('handshakeExchange')
type TaggedRequest = IncomingMessage & { [kExchange]?: Exchange }

export class HandshakeLog {
  private readonly lastHttp = new Map<string, Exchange>()
  private readonly lastUpgrade = new Map<string, Exchange>()
  /** Connection id -> the streams opened there, one per transport (nearly always one). */
  private readonly pins = new Map<string, OneOrMore<Pin>>()
  /**
   * Open connection id -> the pins that follow it from another connection (Engine.IO's upgrade). A pin that
   * follows its own connection, nearly every one, is found in `pins` under it: an entry here was about 30
   * bytes of every idle connection.
   */
  private readonly held = new Map<string, OneOrMore<Pin>>()
  /** Pins whose connection closed, oldest first. */
  private readonly retired = new Set<Pin>()
  private readonly isOpen: (connectionId: string) => boolean
  private readonly closedKept: number

  constructor(isOpen: (connectionId: string) => boolean, closedKept = CLOSED_CONNECTIONS_KEPT) {
    this.isOpen = isOpen
    this.closedKept = closedKept
  }

  request(transport: string, connectionId: string, req: IncomingMessage, res: ServerResponse): void {
    const exchange = new Exchange(connectionId, req, res)
    ;(req as TaggedRequest)[kExchange] = exchange
    this.lastHttp.set(transport, exchange)
  }

  upgrade(transport: string, connectionId: string, req: IncomingMessage): void {
    const exchange = new Exchange(connectionId, req, undefined)
    requestOf(exchange)
    ;(req as TaggedRequest)[kExchange] = exchange
    this.lastUpgrade.set(transport, exchange)
  }

  /** The 101 as ws is about to write it for `req`: the lines its 'headers' event hands over. */
  upgradeResponse(req: IncomingMessage, transport: string, lines: string[]): void {
    const exchange = (req as TaggedRequest)[kExchange] ?? this.lastUpgrade.get(transport)
    if (!exchange) return
    const [startLine = '', ...rest] = lines
    withResponse(exchange, flatHeaders(startLine, rest, offersBearer(req.headers), keyOf(requestOf(exchange))))
  }

  /**
   * Pins the exchange `req` made as the handshake of the stream `transport`
   * opened with it, in place of any stream that transport opened on the same
   * connection before, readable by `address`, with the principal its token
   * named, if any. Returns the connection id, or undefined for a request the
   * log never saw.
   */
  opened(transport: string, req: IncomingMessage, address: string, auth?: HandshakeAuth): string | undefined {
    const exchange = (req as TaggedRequest)[kExchange]
    if (!exchange) return undefined
    requestOf(exchange)
    const key = exchange.connectionId
    const replaced = allOf(this.pins, key).find((pin) => pin.transport === transport)
    if (replaced) this.forget(replaced)
    const pin = exchange as Pin
    pin.transport = transport
    pin.address = address
    pin.holder = shown(exchange).connectionId
    // Picked field by field: a principal also carries the token's id, which stays on the server.
    pin.auth = auth && { channel: auth.channel, name: auth.name, role: auth.role, expiresAt: auth.expiresAt }
    addTo(this.pins, key, pin)
    this.hold(pin)
    return key
  }

  /** The stream `from` opened carries on over `to` (Engine.IO's upgrade): its handshake is now `to`'s. */
  continued(from: IncomingMessage, to: IncomingMessage): void {
    const first = (from as TaggedRequest)[kExchange]
    const next = (to as TaggedRequest)[kExchange]
    if (!first || !next || first === next) return
    first.next = next
    if (!isPinned(first)) return
    this.release(first)
    first.holder = next.connectionId
    this.hold(first)
  }

  /**
   * `req`'s response is finished: a pinned exchange reads its head now and lets
   * the response go, which would otherwise stay (with its request) for as long
   * as the connection does: a polling client's join, on a keep-alive socket.
   */
  finished(req: IncomingMessage): void {
    const exchange = (req as TaggedRequest)[kExchange]
    if (exchange && isPinned(exchange)) responseOf(exchange)
  }

  /** A TCP connection closed: what follows it joins the closed ones kept, pushing out the oldest. */
  closed(connectionId: string): void {
    const pins = [
      ...allOf(this.pins, connectionId).filter((pin) => pin.holder === connectionId && !this.retired.has(pin)),
      ...allOf(this.held, connectionId),
    ]
    this.held.delete(connectionId)
    for (const pin of pins) this.retire(pin)
  }

  /** The handshakes of the streams opened on a connection, by transport, for a reader at `address`. */
  ofConnection(connectionId: string, address: string | undefined): Record<string, Handshake> | undefined {
    const streams = allOf(this.pins, connectionId)
    if (streams.length === 0) return undefined
    let result: Record<string, Handshake> | undefined
    for (const pin of streams)
      if (address === undefined || pin.address === address)
        (result ??= {})[pin.transport] = describe(shown(pin), pin.auth)
    return result
  }

  /** How many connections' handshakes are kept, open and closed. */
  get connectionsKept(): number {
    return this.pins.size
  }

  /** The latest handshake per transport from anyone: its upgrade when it has one, else its last HTTP exchange. */
  all(): Record<string, Handshake> {
    const result: Record<string, Handshake> = {}
    for (const [transport, last] of this.lastHttp) result[transport] = describe(last, last.auth)
    for (const [transport, last] of this.lastUpgrade) result[transport] = describe(last, last.auth)
    return result
  }

  private hold(pin: Pin): void {
    if (!this.isOpen(pin.holder)) {
      this.retire(pin)
      return
    }
    if (pin.holder !== pin.connectionId) addTo(this.held, pin.holder, pin)
  }

  private release(pin: Pin): void {
    removeFrom(this.held, pin.holder, pin)
    this.retired.delete(pin)
  }

  private retire(pin: Pin): void {
    // Its response head is read now, so that the response itself can go.
    responseOf(shown(pin))
    this.retired.add(pin)
    for (const oldest of this.retired) {
      if (this.retired.size <= this.closedKept) break
      this.forget(oldest)
    }
  }

  private forget(pin: Pin): void {
    this.release(pin)
    removeFrom(this.pins, pin.connectionId, pin)
    const unpinned = pin as Exchange
    unpinned.transport = unpinned.address = unpinned.holder = unpinned.auth = undefined
  }
}

const isPinned = (exchange: Exchange): exchange is Pin => exchange.transport !== undefined

/** Where a stream is now: the exchange it opened with, or the one it moved to. */
function shown(exchange: Exchange): Exchange {
  let current = exchange
  while (current.next) current = current.next
  return current
}

function requestSide(req: IncomingMessage): Head {
  const headers: Array<[string, string]> = []
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.push(redactHeader([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]))
  return head([req.method, redactUrl(req.url ?? '/'), `HTTP/${req.httpVersion}`].join(' '), headers)
}

/** `key`: the Sec-WebSocket-Key of the request a 101 answers, whose accept is kept as DERIVED_ACCEPT. */
function flatHeaders(startLine: string, lines: string[], bearerOffered = false, key?: string): Head {
  return head(
    startLine,
    lines.map((line) => splitHeader(line, bearerOffered)),
    key,
  )
}

/** Node refuses a newline in a start line or a header (and ws writes none): a safe separator. */
const oneLine = (text: string) => (text.includes('\n') ? text.replace(/\n/g, ' ') : text)

function head(startLine: string, headers: Array<[string, string]>, key?: string): Head {
  const kept = new Array<string>(headers.length + 1)
  // A split's pieces are slices, which keep the string they came from alive (a response's whole head): joining
  // them again makes a copy of the start line alone. Likewise each header line is joined, not a template
  // literal, which would keep its pieces as a rope.
  kept[0] = internLine(oneLine(startLine).split(' ').join(' '))
  for (let i = 0; i < headers.length; i++) {
    const [name, value] = headers[i]!
    kept[i + 1] =
      key !== undefined && name === ACCEPT && value === acceptOf(key)
        ? DERIVED_ACCEPT
        : internLine([oneLine(name), oneLine(value)].join('\n'))
  }
  return kept
}

/** A kept head as the API serves it: a pair per header line; `request` is the head a 101 answered. */
function served(head: Head, request?: Head): HandshakeSide {
  const [startLine = '', ...lines] = head
  return {
    startLine,
    headers: lines.map((line): [string, string] => {
      if (line === DERIVED_ACCEPT) return [ACCEPT, acceptOf(keyOf(request!)!)]
      const at = line.indexOf('\n')
      return [line.slice(0, at), line.slice(at + 1)]
    }),
  }
}

function splitHeader(line: string, bearerOffered = false): [string, string] {
  const colon = line.indexOf(':')
  return redactHeader(colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1).trim()], bearerOffered)
}

/**
 * The response head exactly as Node wrote it, Date, Connection and chunked
 * framing headers included. Node offers no public way to read it back
 * (getHeaders() has only what the app set), so this reads its own record of
 * it, the undocumented `res._header`: a string from the first write of the
 * head on, null before. Verified against Node 20.20.2;
 * test/wire/handshakes.test.ts compares it with the bytes a raw client
 * received and fails if Node stops keeping it.
 */
function responseSide(res: ServerResponse | undefined): Head | null {
  const raw = (res as unknown as { _header?: string | null } | undefined)?._header
  if (!raw) return null
  const [startLine = '', ...lines] = raw.split('\r\n').filter((line) => line.length > 0)
  return flatHeaders(startLine, lines)
}

/** The exchange's request head, made from its request the first time it is needed; the request is let go then. */
function requestOf(exchange: Exchange): Head {
  if (exchange.lines === undefined) {
    const source = exchange.source!
    exchange.lines = requestSide(exchange.upgrade ? (source as IncomingMessage) : (source as ServerResponse).req)
    if (exchange.upgrade) exchange.source = undefined
  }
  return exchange.requestLines === 0 ? exchange.lines : exchange.lines.slice(0, exchange.requestLines)
}

/** The exchange's response head, read once it has been written; the response is let go then. */
function responseOf(exchange: Exchange): Head | null {
  if (exchange.requestLines !== 0) return exchange.lines!.slice(exchange.requestLines)
  const side = exchange.upgrade ? null : responseSide(exchange.source as ServerResponse | undefined)
  if (side) {
    withResponse(exchange, side)
    exchange.source = undefined
  }
  return side
}

/** Keeps `response` after the request's lines, in one array. */
function withResponse(exchange: Exchange, response: Head): void {
  const request = requestOf(exchange)
  const lines = new Array<string>(request.length + response.length)
  for (let i = 0; i < request.length; i++) lines[i] = request[i]!
  for (let i = 0; i < response.length; i++) lines[request.length + i] = response[i]!
  exchange.lines = lines
  exchange.requestLines = request.length
}

/**
 * A 101's Sec-WebSocket-Accept is its request's key, hashed (RFC 6455, 4.2.2): a line of every WebSocket's
 * that no other head shares. When the key gives it, it is kept as DERIVED_ACCEPT, one string for all of
 * them, and made again from the key when served.
 */
const ACCEPT = 'Sec-WebSocket-Accept'
/** In place of an accept line that its request's key gives; no header line can be it, a value has no newline. */
const DERIVED_ACCEPT = `${ACCEPT}\n\n`
/** RFC 6455, 1.3: what a key is hashed with. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const acceptOf = (key: string) =>
  createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64')

/** A request head's Sec-WebSocket-Key, whatever case the client wrote its name in. */
function keyOf(request: Head): string | undefined {
  const prefix = 'sec-websocket-key\n'
  for (const line of request)
    if (line.length > prefix.length && line.slice(0, prefix.length).toLowerCase() === prefix)
      return line.slice(prefix.length)
  return undefined
}

function describe(exchange: Exchange, auth: HandshakeAuth | undefined): Handshake {
  const request = requestOf(exchange)
  const response = responseOf(exchange)
  return {
    at: wallClock(exchange.at),
    connectionId: exchange.connectionId,
    request: served(request),
    response: response ? served(response, request) : null,
    upgrade: exchange.upgrade,
    ...(auth ? { auth } : {}),
  }
}
