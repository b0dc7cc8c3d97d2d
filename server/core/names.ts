// The names, paths, labels, colours and limits that the server, the UI, the
// benchmarks and the terminal chat all use, as plain values without TypeBox:
// the UI bundle and a client that only checks its flags import this file and
// nothing heavier. protocol.ts builds its schemas from these; there is no
// other copy. Every per-transport table is a Record<TransportName, ...>, so
// adding a name to TRANSPORTS makes the compiler point at each table to fill.

export const TRANSPORTS = ['short-polling', 'long-polling', 'sse', 'websocket', 'socket.io'] as const
export type TransportName = (typeof TRANSPORTS)[number]

export interface TransportInfo {
  /** How a panel or a chart legend names it: "Server-Sent Events". */
  label: string
  /** How a table cell or a sentence names it: "SSE". */
  short: string
  /** Every URL under this path belongs to the transport (routes, the wire meter, load clients). */
  path: string
  /** One colour per transport in every panel and chart: the Okabe–Ito palette, distinguishable for colour-blind viewers and on projectors. */
  color: string
}

export const TRANSPORT_INFO: Record<TransportName, TransportInfo> = {
  'short-polling': { label: 'Short polling', short: 'short polling', path: '/poll', color: '#E69F00' },
  'long-polling': { label: 'Long polling', short: 'long polling', path: '/long-poll', color: '#56B4E9' },
  sse: { label: 'Server-Sent Events', short: 'SSE', path: '/sse', color: '#009E73' },
  websocket: { label: 'WebSocket', short: 'WebSocket', path: '/ws', color: '#0072B2' },
  'socket.io': { label: 'Socket.IO', short: 'Socket.IO', path: '/socket.io', color: '#CC79A7' },
}

export const isTransportName = (value: unknown): value is TransportName =>
  (TRANSPORTS as readonly unknown[]).includes(value)

/** The header that carries an HTTP client's session (polling and SSE's POSTs); the wire meter redacts it. */
export const SESSION_HEADER = 'x-lab-session'

export const DEFAULT_ROOM = 'lobby'
export const ROOM_MAX_LENGTH = 32
export const ROOM_PATTERN = `^[A-Za-z0-9][A-Za-z0-9_-]{0,${ROOM_MAX_LENGTH - 1}}$`
/** In words, for error messages and form hints. */
export const ROOM_RULE = `1-${ROOM_MAX_LENGTH} letters, digits, - or _, starting with a letter or digit`
const ROOM_REGEX = new RegExp(ROOM_PATTERN)
export const isRoomName = (value: string): boolean => ROOM_REGEX.test(value)

export const NAME_MAX_LENGTH = 32
/**
 * Characters a name may not contain: C0 and C1 controls, and the invisible
 * formatting marks (zero-width, bidi embeddings, overrides and isolates) that
 * let a name pose as another or turn the text around it backwards.
 */
export const NAME_FORBIDDEN =
  '\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff'
/** 1-32 characters (the length is checked apart), none of NAME_FORBIDDEN, not only spaces. */
export const NAME_PATTERN = `^(?=.*\\S)[^${NAME_FORBIDDEN}]+$`

/** The documented limit on a message's text, in UTF-8 bytes (TEXT_MAX_BYTES may lower or raise it per server). */
export const TEXT_MAX_BYTES = 8192
/** A welcome lists at most this many members, so that joining a crowded room stays cheap. */
export const WELCOME_MEMBERS_MAX = 100

/** UTF-8 length, the unit of TEXT_MAX_BYTES: an emoji is 4 bytes, an accented letter 2. */
export const utf8Length = (text: string): number => new TextEncoder().encode(text).length
