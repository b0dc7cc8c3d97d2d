// What the inspector and the frame log compute, kept free of the DOM so that
// the tests run it in Node: the Sec-WebSocket-Accept proof step by step, the
// notes beside the headers a class should look at, and frame formatting.
import { sha1 } from '@noble/hashes/legacy.js'
import type { HandshakeAuth, HandshakeSide } from '../../../server/wire/types.ts'
import { SESSION_HEADER } from '../../../server/core/names.ts'

/** RFC 6455, section 1.3: the same for every WebSocket server in the world. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

export interface AcceptSteps {
  key: string
  joined: string
  sha1Hex: string
  accept: string
}

/**
 * The server proves it read the client's key by answering
 * base64(SHA-1(key + GUID)). SHA-1 comes from @noble/hashes because
 * crypto.subtle only exists on secure origins, and a classroom reaches the
 * lab over plain http on the LAN.
 */
export function acceptSteps(key: string): AcceptSteps {
  const joined = key + WEBSOCKET_GUID
  const digest = sha1(new TextEncoder().encode(joined))
  return { key, joined, sha1Hex: toHex(digest), accept: toBase64(digest) }
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
}

/** HTTP header names are case-insensitive; the capture keeps them as the peer wrote them. */
export function headerValue(side: HandshakeSide | null | undefined, name: string): string | undefined {
  const wanted = name.toLowerCase()
  return side?.headers.find(([n]) => n.toLowerCase() === wanted)?.[1]
}

export function statusCode(side: HandshakeSide | null | undefined): number | undefined {
  const match = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(side?.startLine ?? '')
  return match ? Number(match[1]) : undefined
}

/** What a class should notice about a header, or undefined for the ones to skim past. */
export function headerNote(name: string, value: string, side: 'request' | 'response'): string | undefined {
  const lower = name.toLowerCase()
  const v = value.toLowerCase()
  if (lower === 'upgrade' && v.includes('websocket')) {
    return side === 'request' ? 'asks to switch this connection to WebSocket' : 'the protocol spoken from here on'
  }
  if (lower === 'connection' && v.includes('upgrade')) return 'Upgrade is hop-by-hop: it concerns this connection only'
  if (lower === 'sec-websocket-key') return '16 random bytes in base64: the server must prove it read them'
  if (lower === 'sec-websocket-accept') return 'base64(SHA-1(key + GUID)), recomputed below'
  if (lower === 'sec-websocket-version') return '13 is RFC 6455'
  if (lower === 'sec-websocket-extensions' && v.includes('permessage-deflate')) {
    return side === 'request'
      ? 'the client offers compression; the response says whether the server took it'
      : 'compression agreed: frames may be deflated'
  }
  if (lower === 'content-type' && v.startsWith('text/event-stream')) return 'an SSE stream: the response never ends'
  if (lower === 'last-event-id') return 'SSE resume: the id of the last event this client saw'
  if (lower === 'transfer-encoding' && v.includes('chunked'))
    return 'the body comes in chunks, each with its length in hex'
  if (lower === SESSION_HEADER) return "the lab's session token for HTTP clients"
  return undefined
}

export function statusNote(side: HandshakeSide | null | undefined): string | undefined {
  if (statusCode(side) === 101) return 'after this line and the headers, the bytes are WebSocket frames, not HTTP'
  return undefined
}

/** HH:MM:SS.mmm on the local wall clock, for a time in ms since the epoch (the page clock's `now()`). */
export function formatClock(at: number): string {
  const d = new Date(at)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`
}

/** Where each channel puts the token, as a class reads it off the handshake above. */
const TOKEN_WHERE: Record<HandshakeAuth['channel'], string> = {
  authorization: 'in the Authorization header (redacted)',
  subprotocol: 'in Sec-WebSocket-Protocol, beside "bearer" (redacted)',
  query: 'in the query string, ?token= (redacted)',
  cookie: 'in the Cookie header, lab_token (redacted)',
  'socket.io-auth': "in Socket.IO's auth object, sent in its CONNECT packet after this handshake (not shown)",
}

/** One line on the token that opened the stream: where it travelled and who it named, never the token itself. */
export function tokenLine(auth: HandshakeAuth): string {
  const d = new Date(auth.expiresAt)
  const two = (n: number) => String(n).padStart(2, '0')
  return `Token: ${TOKEN_WHERE[auth.channel]} — ${auth.name}, ${auth.role}, expires ${two(d.getHours())}:${two(d.getMinutes())}`
}

/**
 * A frame's content laid out for reading: JSON indented, and a packet prefix
 * (Engine.IO/Socket.IO's "42", an ack id, a namespace) kept on its own line
 * above the JSON it introduces. Anything else comes back unchanged.
 */
export function prettyContent(content: string): string {
  const start = content.search(/[[{]/)
  if (start < 0) return content
  try {
    const body = JSON.stringify(JSON.parse(content.slice(start)), null, 2)
    return start === 0 ? body : `${content.slice(0, start)}\n${body}`
  } catch {
    return content
  }
}
