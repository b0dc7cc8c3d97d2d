// Stable error codes. A code never changes meaning once published: clients,
// tests and lessons match on it. Each carries the HTTP status and the
// WebSocket close code it maps to when the error ends a connection.
import { ROOM_RULE } from './names.ts'

export const ERRORS = {
  LAB_ERR_BAD_JSON: { status: 400, close: 1007, text: 'the message is not valid JSON' },
  LAB_ERR_UNKNOWN_TYPE: { status: 400, close: 1008, text: 'unknown message type (expected join, leave or send)' },
  LAB_ERR_BAD_MESSAGE: { status: 400, close: 1008, text: 'the message does not match the protocol schema' },
  LAB_ERR_TEXT_EMPTY: { status: 400, close: 1008, text: 'text must not be empty' },
  LAB_ERR_TEXT_TOO_LONG: { status: 413, close: 1009, text: 'text is longer than the limit' },
  LAB_ERR_ROOM_NAME: { status: 400, close: 1008, text: `room names are ${ROOM_RULE}` },
  LAB_ERR_NAME: {
    status: 400,
    close: 1008,
    text: 'names are 1-32 characters, not only spaces, without control or invisible formatting characters',
  },
  LAB_ERR_CURSOR: {
    status: 400,
    close: 1008,
    text: 'the resume cursor is malformed (since must be an integer >= 0, or EPOCH-SEQ as an SSE id)',
  },
  LAB_ERR_UNKNOWN_CLIENT: {
    status: 404,
    close: 1008,
    text: 'no such client session (it may have expired): join again',
  },
  LAB_ERR_UNSUPPORTED: { status: 400, close: 1003, text: 'not supported on this transport' },
  LAB_ERR_TOO_LARGE: { status: 413, close: 1009, text: 'the message is larger than the limit' },
  LAB_ERR_MEDIA_TYPE: { status: 415, close: 1003, text: 'send JSON with content-type: application/json' },
  LAB_ERR_ROOM_LIMIT: { status: 503, close: 1013, text: 'too many rooms are in use; try again later' },
  LAB_ERR_RATE_LIMIT: { status: 429, close: 1008, text: 'too many messages: slow down' },
  LAB_ERR_TOO_MANY_CONNECTIONS: {
    status: 429,
    close: 1008,
    text: 'too many connections from your address on this transport',
  },
  LAB_ERR_TOO_MANY_ROOMS: { status: 429, close: 1008, text: 'this client is in too many rooms: leave one first' },
  LAB_ERR_SLOW_CONSUMER: {
    status: 503,
    close: 1013,
    text: 'the client read too slowly and its send buffer filled: reconnect and resume',
  },
  LAB_ERR_NOT_FOUND: { status: 404, close: 1008, text: 'not found' },
  LAB_ERR_FORBIDDEN: { status: 403, close: 1008, text: 'not served to your address' },
  LAB_ERR_AUTH: {
    status: 401,
    close: 1008,
    text: 'this class needs a token: POST /api/login with {"code", "name"} and send the token it answers',
  },
  LAB_ERR_ORIGIN: {
    status: 403,
    close: 1008,
    text: 'pages from this origin may not use the lab (see ALLOWED_ORIGINS)',
  },
  LAB_ERR_NAME_TAKEN: {
    status: 409,
    close: 1008,
    text: 'another token holder has this name: choose another, or ask the instructor to free it',
  },
  // 4001: an application's own close code (4000-4999), since no standard one means "sent away by a person".
  LAB_ERR_DISCONNECTED: {
    status: 404,
    close: 4001,
    text: 'the instructor disconnected this client: join again when you are ready',
  },
  LAB_ERR_UNAVAILABLE: {
    status: 503,
    close: 1013,
    text: 'the shared log (Redis) cannot be reached: nothing was sent; try again shortly',
  },
  LAB_ERR_SHUTTING_DOWN: { status: 503, close: 1001, text: 'the server is shutting down' },
  LAB_ERR_INTERNAL: { status: 500, close: 1011, text: 'internal error' },
} as const satisfies Record<string, { status: number; close: number; text: string }>

export type ErrorCode = keyof typeof ERRORS

export class LabError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly closeCode: number
  /** For limits: when the client may try again (HTTP sends it as Retry-After). */
  retryAfterSeconds: number | undefined
  /** For limits: the client keeps at it, so its connection ends with the answer (HTTP: Connection: close). */
  hangUp = false

  constructor(code: ErrorCode, message: string = ERRORS[code].text) {
    super(message)
    this.name = 'LabError'
    this.code = code
    this.status = ERRORS[code].status
    this.closeCode = ERRORS[code].close
  }
}

export function isLabError(value: unknown): value is LabError {
  return value instanceof LabError
}
