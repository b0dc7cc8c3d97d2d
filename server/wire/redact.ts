// The one rule for what the lab never shows of a credential, wherever it would
// surface: the inspector's handshakes (handshakes.ts) and the log lines
// (app.ts's serializers). A token travels in a header, a query parameter, a
// cookie or a subprotocol; each keeps its name, so a reader still sees where
// the credential went, and loses its value.
import { TOKEN_SUBPROTOCOL } from '../auth/gate.ts'
import { SESSION_HEADER } from '../core/names.ts'

export const REDACTED = '[redacted]'

/** Headers whose whole value is a credential (Set-Cookie: /api/login's token; Cookie: the browser's copy of it). */
const SECRET_HEADERS = new Set([SESSION_HEADER, 'cookie', 'set-cookie', 'authorization', 'proxy-authorization'])
/** Query parameters that carry a credential: the auth token, and the HTTP transports' session. */
const SECRET_PARAMS = new Set(['token', 'session'])
const SUBPROTOCOL_HEADER = 'sec-websocket-protocol'

/**
 * A header as it may be shown. Sec-WebSocket-Protocol keeps `bearer` and
 * loses every other entry when `bearer` is among them (request), or when the
 * request that it answers offered `bearer` (`bearerOffered`, for a 101): the
 * gate reads the entry beside `bearer` as the token.
 */
export function redactHeader([name, value]: [string, string], bearerOffered = false): [string, string] {
  const lower = name.toLowerCase()
  if (SECRET_HEADERS.has(lower)) return [name, REDACTED]
  if (lower === SUBPROTOCOL_HEADER) {
    const entries = value.split(',').map((entry) => entry.trim())
    if (bearerOffered || entries.includes(TOKEN_SUBPROTOCOL))
      return [name, entries.map((entry) => (entry === TOKEN_SUBPROTOCOL ? entry : REDACTED)).join(', ')]
  }
  return [name, value]
}

/** Whether a request offered its token as a subprotocol: its 101 is then shown with the same rule. */
export function offersBearer(headers: { 'sec-websocket-protocol'?: string | string[] | undefined }): boolean {
  const value = headers[SUBPROTOCOL_HEADER]
  const list = Array.isArray(value) ? value.join(',') : (value ?? '')
  return list.split(',').some((entry) => entry.trim() === TOKEN_SUBPROTOCOL)
}

/**
 * A request target with the values of its credential parameters replaced.
 * Names are compared decoded and in any case, as a query parser would read
 * them: `?%74oken=` is a token too.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?')
  if (start < 0) return url
  const end = url.indexOf('#', start)
  const query = url.slice(start + 1, end < 0 ? undefined : end)
  const shown = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const name = eq < 0 ? pair : pair.slice(0, eq)
      return SECRET_PARAMS.has(decodedName(name).toLowerCase()) ? `${name}=${REDACTED}` : pair
    })
    .join('&')
  return `${url.slice(0, start + 1)}${shown}${end < 0 ? '' : url.slice(end)}`
}

function decodedName(name: string): string {
  return new URLSearchParams(`${name}=`).keys().next().value ?? name
}

/** A raw request in a log line: what Fastify's own serializer gives, with the target redacted. */
export function logRequest(req: {
  method?: string
  url?: string
  headers?: { host?: string }
  socket?: { remoteAddress?: string; remotePort?: number }
}) {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : redactUrl(req.url),
    host: req.headers?.host,
    remoteAddress: req.socket?.remoteAddress,
    remotePort: req.socket?.remotePort,
  }
}

/**
 * An error in a log line. Node's HTTP parser hands a malformed request over
 * as `rawPacket`, its unparsed bytes (the request line and headers, token
 * and cookie included): those stay out, and any URL in the message is redacted.
 */
export function logError(err: unknown): LoggedError {
  // Pino hands over whatever sits under `err`; only an Error has bytes to hide.
  if (!(err instanceof Error)) return err as LoggedError
  const { rawPacket: _rawPacket, ...own } = err as Error & Record<string, unknown>
  return {
    ...own,
    type: err.constructor.name,
    message: redactUrls(err.message),
    stack: redactUrls(err.stack ?? ''),
    ...(err.cause instanceof Error ? { cause: logError(err.cause) } : {}),
  }
}

interface LoggedError {
  [key: string]: unknown
  type: string
  message: string
  stack: string
}

/** Every URL-like run in a text, redacted: `GET /ws?token=...` in an error message. */
function redactUrls(text: string): string {
  return text.replace(/\S*\?\S*/g, (run) => redactUrl(run))
}
