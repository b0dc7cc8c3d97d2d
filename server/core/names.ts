// The protocol's names and naming rules as plain values, without TypeBox, so
// that a client which only checks its flags (the terminal chat) starts fast.
// protocol.ts builds its schemas from these; there is no other copy.

export const TRANSPORTS = ['short-polling', 'long-polling', 'sse', 'websocket', 'socket.io'] as const
export type TransportName = (typeof TRANSPORTS)[number]

export const DEFAULT_ROOM = 'lobby'
export const ROOM_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$'
export const NAME_MAX_LENGTH = 32
/**
 * Characters a name may not contain: C0 and C1 controls, and the invisible
 * formatting marks (zero-width, bidi embeddings, overrides and isolates) that
 * let a name pose as another or turn the text around it backwards.
 */
export const NAME_FORBIDDEN = '\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff'
/** 1-32 characters (the length is checked apart), none of NAME_FORBIDDEN, not only spaces. */
export const NAME_PATTERN = `^(?=.*\\S)[^${NAME_FORBIDDEN}]+$`
