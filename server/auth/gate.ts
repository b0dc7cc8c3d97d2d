// Who may connect: the one place every transport asks. A token can travel on
// five channels, because not every client can use every one: a browser's
// EventSource and WebSocket cannot set headers (so the cookie, or the query
// string, or for /ws the subprotocol list), a script can (the Authorization
// header), and Socket.IO carries its own `auth` object in its CONNECT packet.
// Whatever the channel, the same check: signature, expiry, revocation.
import { timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { Config } from '../config.ts'
import { LabError } from '../core/errors.ts'
import { OriginPolicy } from './origins.ts'
import { TokenSigner, type Claims, type Role } from './tokens.ts'

export type Channel = 'authorization' | 'query' | 'cookie' | 'subprotocol' | 'socket.io-auth'

/** Who is connecting, and how their token came. */
export interface Principal extends Claims {
  channel: Channel
}

/** The HttpOnly cookie /api/login sets: the browser sends it with every transport's requests and upgrades. */
export const TOKEN_COOKIE = 'lab_token'
/** Offered next to the token in Sec-WebSocket-Protocol, and the one the server picks: the token is never echoed. */
export const TOKEN_SUBPROTOCOL = 'bearer'

export class Gate {
  /** CLASS_CODE is set: no transport accepts a client without a token. */
  readonly required: boolean
  readonly origins: OriginPolicy
  readonly ttlMs: number
  private readonly signer: TokenSigner
  private readonly classCode: string
  private readonly instructorCode: string
  private readonly now: () => number
  /** Revoked token ids, until they would have expired anyway. */
  private readonly revoked = new Map<string, number>()
  /** Each name in use, by its folded form: the ids of the live tokens that carry it. */
  private readonly holders = new Map<string, Map<string, number>>()
  private readonly principals = new WeakMap<IncomingMessage, Principal>()

  constructor(config: Config, ownPorts: () => number[] = () => [], now: () => number = Date.now) {
    this.required = config.classCode !== ''
    this.classCode = config.classCode
    this.instructorCode = config.instructorCode
    this.ttlMs = config.tokenTtlMs
    this.now = now
    this.signer = new TokenSigner(config.authSecret || TokenSigner.randomSecret(), now)
    this.origins = new OriginPolicy(config.allowedOrigins, ownPorts)
  }

  /** Whether there is an instructor code: then only its tokens may act for the whole class. */
  get instructorByToken(): boolean {
    return this.instructorCode !== ''
  }

  /**
   * A token for `name` when `code` is the class code (a student) or the
   * instructor code. A name another token holder has is refused, unless
   * `current` is that holder's own token (a second tab, a renewal).
   */
  login(code: string, name: string, current?: Principal): { token: string; claims: Claims } {
    let role: Role
    if (this.instructorCode !== '' && same(code, this.instructorCode)) role = 'instructor'
    else if (this.classCode !== '' && same(code, this.classCode)) role = 'student'
    else if (this.classCode === '')
      throw new LabError('LAB_ERR_AUTH', 'this server has no class code: join without one')
    else throw new LabError('LAB_ERR_AUTH', 'wrong code: ask the instructor for the class code')
    const held = this.liveHolders(name)
    if (held && held.size > 0 && !(current && fold(current.name) === fold(name) && held.has(current.id)))
      throw new LabError('LAB_ERR_NAME_TAKEN', `${JSON.stringify(name)} is taken by another token holder`)
    const signed = this.signer.sign(name, role, this.ttlMs)
    this.hold(signed.claims)
    return signed
  }

  /**
   * The principal `req` presents (`socketIoAuth`: the token in Socket.IO's
   * CONNECT packet), remembered for principalOf(). Undefined when it presents
   * none and none is required; LAB_ERR_AUTH for a missing, bad, expired or
   * revoked token. Where none is required, a bad token counts as none: a
   * browser keeps its cookie across a restart that made it worthless (a new
   * random AUTH_SECRET), and an open lab must not lock it out for that.
   */
  authenticate(req: IncomingMessage, socketIoAuth?: unknown): Principal | undefined {
    const found = findToken(req, socketIoAuth)
    if (!found) {
      if (this.required) throw new LabError('LAB_ERR_AUTH')
      return undefined
    }
    let claims: Claims
    try {
      claims = this.verify(found.token)
    } catch (error) {
      if (this.required) throw error
      return undefined
    }
    const principal = { ...claims, channel: found.channel }
    this.principals.set(req, principal)
    return principal
  }

  verify(token: string): Claims {
    const claims = this.signer.verify(token)
    if (this.revoked.has(claims.id)) throw new LabError('LAB_ERR_AUTH', 'the token was revoked: log in again')
    // A server restarted with the same AUTH_SECRET never saw this token's login: its name is held from now on.
    this.hold(claims)
    return claims
  }

  /** The principal authenticate() found for `req`, if any. */
  principalOf(req: IncomingMessage): Principal | undefined {
    return this.principals.get(req)
  }

  /** 403 LAB_ERR_ORIGIN for a page on an origin that is not allowed. A request without Origin passes. */
  checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin
    if (origin === undefined || this.origins.allows(origin)) return
    throw new LabError(
      'LAB_ERR_ORIGIN',
      `pages from ${origin} may not use this lab: it accepts ${this.origins.describe()} (ALLOWED_ORIGINS)`,
    )
  }

  /** The token is refused from now on, and its name is free again. */
  revoke(claims: Pick<Claims, 'id' | 'expiresAt' | 'name'>): void {
    this.revoked.set(claims.id, claims.expiresAt)
    this.holders.get(fold(claims.name))?.delete(claims.id)
    this.forgetExpired()
  }

  private hold(claims: Claims): void {
    const ids = this.holders.get(fold(claims.name)) ?? new Map<string, number>()
    ids.set(claims.id, claims.expiresAt)
    this.holders.set(fold(claims.name), ids)
  }

  private liveHolders(name: string): Map<string, number> | undefined {
    this.forgetExpired()
    return this.holders.get(fold(name))
  }

  private forgetExpired(): void {
    const now = this.now()
    for (const [id, expiresAt] of this.revoked) if (expiresAt <= now) this.revoked.delete(id)
    for (const [name, ids] of this.holders) {
      for (const [id, expiresAt] of ids) if (expiresAt <= now) ids.delete(id)
      if (ids.size === 0) this.holders.delete(name)
    }
  }
}

/** The token a request carries and where: the Authorization header first, then the subprotocol, Socket.IO's auth, the query string, the cookie. */
export function findToken(
  req: IncomingMessage,
  socketIoAuth?: unknown,
): { token: string; channel: Channel } | undefined {
  const authorization = req.headers.authorization
  const bearer = typeof authorization === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1] : undefined
  if (bearer) return { token: bearer, channel: 'authorization' }
  // Only on a WebSocket handshake, and only as `bearer, TOKEN`: engine.io's ws answers with the first
  // protocol offered, so a token offered first would come back in Socket.IO's 101 for any proxy to log.
  if (req.headers.upgrade) {
    const protocols = subprotocols(req)
    if (protocols[0] === TOKEN_SUBPROTOCOL && protocols[1]) return { token: protocols[1], channel: 'subprotocol' }
  }
  if (typeof socketIoAuth === 'string' && socketIoAuth) return { token: socketIoAuth, channel: 'socket.io-auth' }
  // Most requests are polls that carry no token in their URL: only a URL that could spell one is cut and parsed.
  const url = req.url ?? ''
  const at = url.indexOf('?')
  const query = at >= 0 && /token|%/i.test(url) ? new URLSearchParams(url.slice(at + 1)).get('token') : null
  if (query) return { token: query, channel: 'query' }
  const cookie = cookieValue(req.headers.cookie, TOKEN_COOKIE)
  if (cookie) return { token: cookie, channel: 'cookie' }
  return undefined
}

/** The Sec-WebSocket-Protocol list a client offered. */
export function subprotocols(req: IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol']
  return typeof header === 'string' ? header.split(',').map((p) => p.trim()) : []
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return percentDecoded(part.slice(eq + 1).trim()) || undefined
  }
  return undefined
}

/** A cookie is whatever the client sends: a malformed %-escape is kept as sent (and fails as a token), never thrown. */
function percentDecoded(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** The Set-Cookie value that hands a browser its token (or, with maxAgeMs 0, takes it back). */
export function tokenCookie(token: string, maxAgeMs: number): string {
  return `${TOKEN_COOKIE}=${token}; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}; HttpOnly; SameSite=Strict`
}

/** Names compare as people read them: "Ann" and "ann " are one name. */
function fold(name: string): string {
  return name.normalize('NFKC').trim().toLowerCase()
}

/** Codes compare in constant time, so their length and first letters cannot be timed. */
function same(given: string, expected: string): boolean {
  const a = Buffer.from(given.normalize('NFC'))
  const b = Buffer.from(expected.normalize('NFC'))
  return a.length === b.length && timingSafeEqual(a, b)
}
