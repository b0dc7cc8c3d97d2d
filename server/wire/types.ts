// The wire meter's figures as they leave the server (/api/wire), shared with the UI and the benchmarks.

export interface WireTally {
  bytesIn: number
  bytesOut: number
  payloadIn: number
  payloadOut: number
  overheadIn: number
  overheadOut: number
  connectionsOpen: number
  connectionsTotal: number
  requestsHeld: number
  httpRequests: number
  messagesIn: number
  messagesOut: number
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
