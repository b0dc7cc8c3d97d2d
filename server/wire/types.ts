// The wire meter's figures as they leave the server (/api/wire), shared with the UI and the benchmarks.

export interface WireTally {
  bytesIn: number
  bytesOut: number
  payloadIn: number
  payloadOut: number
  /**
   * The payload before compression (permessage-deflate): what the application
   * sent or got. Equal to payload where nothing is compressed; plain - payload
   * is what compression saved.
   */
  plainIn: number
  plainOut: number
  overheadIn: number
  overheadOut: number
  connectionsOpen: number
  connectionsTotal: number
  requestsHeld: number
  httpRequests: number
  messagesIn: number
  messagesOut: number
}

/** Every count at zero: a transport no client has used yet. */
export function emptyTally(): WireTally {
  return {
    bytesIn: 0,
    bytesOut: 0,
    payloadIn: 0,
    payloadOut: 0,
    plainIn: 0,
    plainOut: 0,
    overheadIn: 0,
    overheadOut: 0,
    connectionsOpen: 0,
    connectionsTotal: 0,
    requestsHeld: 0,
    httpRequests: 0,
    messagesIn: 0,
    messagesOut: 0,
  }
}

export interface HandshakeSide {
  /** "GET /ws HTTP/1.1" or "HTTP/1.1 101 Switching Protocols" */
  startLine: string
  headers: Array<[string, string]>
}

/**
 * Where the token that opened a stream travelled, and who it named: what the
 * inspector shows instead of the token. The channels are the gate's
 * (server/auth/gate.ts), spelled out here because the page imports this file.
 */
export interface HandshakeAuth {
  channel: 'authorization' | 'subprotocol' | 'socket.io-auth' | 'query' | 'cookie'
  name: string
  role: 'student' | 'instructor'
  /** When the token stops being accepted, in ms since the epoch. */
  expiresAt: number
}

export interface Handshake {
  at: number
  connectionId: string
  request: HandshakeSide
  response: HandshakeSide | null
  upgrade: boolean
  /** Present when the stream was opened with a token. */
  auth?: HandshakeAuth
}

export interface ConnectionInfo {
  connectionId: string
  transport: string
  openedAt: number
  bytesIn: number
  bytesOut: number
  upgraded: boolean
}

export interface WireSnapshot {
  at: number
  transports: Record<string, WireTally>
  total: WireTally
}

/**
 * One stream's counts: a WebSocket, an SSE stream (across its renewals), a
 * Socket.IO connection (its Engine.IO upgrade included), a polling session
 * (across the keep-alive connections its requests arrive on). What a page
 * reads of its own connection; the same counts as a transport's WireTally.
 */
export interface StreamTally extends Omit<
  WireTally,
  'connectionsOpen' | 'connectionsTotal' | 'requestsHeld' | 'httpRequests'
> {
  /** When the stream opened, on the server's clock: a page tells a new stream from the one it was following. */
  openedAt: number
  /** HTTP requests and upgrades that carried the stream: its upgrade, its polls and sends, an SSE stream's reopenings. */
  requests: number
}

/** By the connection id a welcome named, then by transport: the streams opened there (GET /api/wire?connections=...). */
export type ConnectionTallies = Record<string, Record<string, StreamTally>>

/** One WebSocket frame's header as the server read it off the wire (GET /api/wire/frames/:connectionId). */
export interface FrameHeader {
  /** Its place among the frames kept for the connection, both ways: 1 is the first frame the server saw. */
  n: number
  /** in: from the client (masked); out: from the server. */
  dir: 'in' | 'out'
  at: number
  fin: boolean
  /** Set on the first frame of a message compressed by permessage-deflate. */
  rsv1: boolean
  opcode: number
  kind: 'continuation' | 'text' | 'binary' | 'close' | 'ping' | 'pong'
  masked: boolean
  /** Payload bytes, as the header says. */
  length: number
  /** The header's bytes in hex, mask key included. */
  header: string
  /** A data frame's first payload bytes as text when they are printable and not compressed: Engine.IO/Socket.IO's packet type ("42"). */
  lead?: string
  /** A close frame's status code (none when its payload is empty) and reason. */
  close?: { code?: number; reason: string }
}

export interface ConnectionFrames {
  connectionId: string
  /** Still open: more frames may come. */
  open: boolean
  /** The newest frames, oldest first; at most `kept` each way. */
  frames: FrameHeader[]
  kept: number
  /** Frames seen each way since the connection opened, kept or not. */
  seen: { in: number; out: number }
}
