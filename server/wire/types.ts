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

export interface Handshake {
  at: number
  connectionId: string
  request: HandshakeSide
  response: HandshakeSide | null
  upgrade: boolean
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
