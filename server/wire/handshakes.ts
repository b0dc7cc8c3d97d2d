// The inspector's view of how each transport opened: per transport, the head
// of its last upgrade (request and the 101) or, for a transport that has
// none, of its last HTTP exchange. The heads are kept as they crossed the
// wire, header names and order included, except that credentials are
// redacted before anything is stored: /api/wire/handshakes is public.
import type { IncomingMessage, ServerResponse } from 'node:http'

import { SESSION_HEADER } from '../core/names.ts'
import type { Handshake, HandshakeSide } from './types.ts'

/** Headers and query parameters that carry credentials: shown with their values replaced, never served. */
const SECRET_HEADERS = new Set([SESSION_HEADER, 'cookie', 'set-cookie', 'authorization', 'proxy-authorization'])
const SECRET_PARAMS = /([?&](?:session|token)=)[^&#]*/gi
export const REDACTED = '[redacted]'

interface LastExchange {
  at: number
  connectionId: string
  request: HandshakeSide
  /** Read when asked for, not when the request arrives: its head is written later. */
  res?: ServerResponse
  upgradeResponse?: HandshakeSide
}

export class HandshakeLog {
  private readonly lastHttp = new Map<string, LastExchange>()
  private readonly lastUpgrade = new Map<string, LastExchange>()

  request(transport: string, connectionId: string, req: IncomingMessage, res: ServerResponse): void {
    this.lastHttp.set(transport, { at: Date.now(), connectionId, request: requestSide(req), res })
  }

  upgrade(transport: string, connectionId: string, req: IncomingMessage): void {
    this.lastUpgrade.set(transport, { at: Date.now(), connectionId, request: requestSide(req) })
  }

  /** The 101 as ws is about to write it: the lines its 'headers' event hands over. */
  upgradeResponse(transport: string, lines: string[]): void {
    const last = this.lastUpgrade.get(transport)
    if (!last) return
    const [startLine = '', ...rest] = lines
    last.upgradeResponse = { startLine, headers: rest.map(splitHeader) }
  }

  /** The last handshake per transport: its upgrade when it has one, else its last HTTP exchange. */
  all(): Record<string, Handshake> {
    const result: Record<string, Handshake> = {}
    for (const [transport, last] of this.lastHttp) result[transport] = describe(last, false)
    for (const [transport, last] of this.lastUpgrade) result[transport] = describe(last, true)
    return result
  }
}

function requestSide(req: IncomingMessage): HandshakeSide {
  const headers: Array<[string, string]> = []
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    headers.push(redactHeader([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]))
  return { startLine: `${req.method} ${redactUrl(req.url ?? '/')} HTTP/${req.httpVersion}`, headers }
}

function splitHeader(line: string): [string, string] {
  const colon = line.indexOf(':')
  return redactHeader(colon < 0 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 1).trim()])
}

function redactHeader([name, value]: [string, string]): [string, string] {
  return SECRET_HEADERS.has(name.toLowerCase()) ? [name, REDACTED] : [name, value]
}

function redactUrl(url: string): string {
  return url.replace(SECRET_PARAMS, `$1${REDACTED}`)
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
function responseSide(res: ServerResponse | undefined): HandshakeSide | null {
  const raw = (res as unknown as { _header?: string | null } | undefined)?._header
  if (!raw) return null
  const [startLine = '', ...lines] = raw.split('\r\n').filter((line) => line.length > 0)
  return { startLine, headers: lines.map(splitHeader) }
}

function describe(last: LastExchange, upgrade: boolean): Handshake {
  return {
    at: last.at,
    connectionId: last.connectionId,
    request: last.request,
    response: last.upgradeResponse ?? responseSide(last.res),
    upgrade,
  }
}
