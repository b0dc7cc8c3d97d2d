// Tokens are JSON Web Tokens signed with HMAC-SHA256 (HS256), made here with
// node:crypto: that is all HS256 needs, and verifying only the one header
// this server writes rules out the attacks a general JWT library must guard
// against ("alg": "none", or a public key used as an HMAC secret). Paste one
// into any JWT decoder to read it: the payload is signed, not secret.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { LabError } from '../core/errors.ts'

export type Role = 'student' | 'instructor'

export interface Claims {
  /** The display name: the holder joins every room under it and no other. */
  name: string
  role: Role
  /** When the token stops being accepted, in ms since the epoch. */
  expiresAt: number
  /** The token's own id: what revocation remembers. */
  id: string
}

const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))

export class TokenSigner {
  private readonly secret: Buffer
  private readonly now: () => number

  constructor(secret: string | Buffer, now: () => number = Date.now) {
    this.secret = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret
    this.now = now
  }

  /** A secret for a server started without AUTH_SECRET: every restart makes the old tokens worthless. */
  static randomSecret(): Buffer {
    return randomBytes(32)
  }

  sign(name: string, role: Role, ttlMs: number): { token: string; claims: Claims } {
    const claims: Claims = { name, role, expiresAt: this.now() + ttlMs, id: randomBytes(9).toString('base64url') }
    // JWT's registered names (sub, exp in seconds, jti) so that JWT tools read it; expiresAt keeps the milliseconds.
    const payload = base64url(
      JSON.stringify({
        sub: name,
        role,
        exp: Math.ceil(claims.expiresAt / 1000),
        expiresAt: claims.expiresAt,
        jti: claims.id,
      }),
    )
    return { token: `${HEADER}.${payload}.${this.mac(`${HEADER}.${payload}`)}`, claims }
  }

  /** The claims of a token this server signed and that has not expired; LAB_ERR_AUTH saying what is wrong otherwise. */
  verify(token: string): Claims {
    const parts = token.split('.')
    if (parts.length !== 3) throw authError('the token is not a JWT (three base64url parts separated by dots)')
    const [header, payload, signature] = parts as [string, string, string]
    if (header !== HEADER)
      throw authError('the token was not made here: only HS256 tokens from /api/login are accepted')
    // Compared as text: decoding first would accept another last character whose spare bits differ.
    const expected = Buffer.from(this.mac(`${header}.${payload}`))
    const given = Buffer.from(signature)
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw authError('the token signature does not match: it was changed, or signed with another secret')
    const claims = parseClaims(payload)
    if (claims.expiresAt <= this.now())
      throw authError(`the token expired at ${new Date(claims.expiresAt).toISOString()}: log in again`)
    return claims
  }

  private mac(data: string): string {
    return createHmac('sha256', this.secret).update(data).digest('base64url')
  }
}

function parseClaims(payload: string): Claims {
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))
  } catch {
    raw = undefined
  }
  const { sub, role, expiresAt, jti } = (raw ?? {}) as Record<string, unknown>
  // Signed by this server, so well formed unless the secret leaked: checked all the same.
  if (
    typeof sub !== 'string' ||
    (role !== 'student' && role !== 'instructor') ||
    typeof expiresAt !== 'number' ||
    typeof jti !== 'string'
  )
    throw authError('the token payload is not one this server writes')
  return { name: sub, role, expiresAt, id: jti }
}

function authError(message: string): LabError {
  return new LabError('LAB_ERR_AUTH', message)
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url')
}
