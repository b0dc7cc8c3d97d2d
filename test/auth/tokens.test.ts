// The tokens on their own: what a token says, and every way a changed or
// stale one is refused, with the clock in the test's hands.
import { describe, expect, it } from 'vitest'
import { TokenSigner } from '../../server/auth/tokens.ts'

const SECRET = 'a test secret of 32 characters!!'
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
const neighbour = (c: string) => ALPHABET[ALPHABET.indexOf(c) ^ 1]!
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

function signerAt(start = 1_800_000_000_000) {
  const clock = { now: start }
  return { signer: new TokenSigner(SECRET, () => clock.now), clock }
}

describe('a token', () => {
  it('is a JWT anyone can read: HS256, the name as sub, the role, exp in seconds and its id', () => {
    const { signer } = signerAt()
    const { token, claims } = signer.sign('ann', 'student', 60_000)
    const [header, payload] = token.split('.')
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' })
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toEqual({
      sub: 'ann',
      role: 'student',
      exp: 1_800_000_060,
      expiresAt: 1_800_000_060_000,
      jti: claims.id,
    })
    expect(signer.verify(token)).toEqual(claims)
  })

  it('is refused once it has expired, to the millisecond', () => {
    const { signer, clock } = signerAt()
    const { token } = signer.sign('ann', 'student', 1000)
    clock.now += 999
    expect(signer.verify(token).name).toBe('ann')
    clock.now += 1
    expect(() => signer.verify(token)).toThrow(/expired/)
  })

  it('is refused when anything in it changed, or it was signed with another secret', () => {
    const { signer } = signerAt()
    const { token } = signer.sign('ann', 'student', 60_000)
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
    const other = new TokenSigner('another secret, just as long!!!!').sign('ann', 'student', 60_000).token
    const refusals: Array<[string, RegExp]> = [
      [`${header}.${b64({ ...claims, role: 'instructor' })}.${signature}`, /signature/],
      [`${header}.${b64({ ...claims, sub: 'bob' })}.${signature}`, /signature/],
      [`${header}.${payload}.${signature.slice(0, -2)}`, /signature/],
      // The last character holds two spare bits: a neighbour decodes to the same bytes, and must still be refused.
      [`${header}.${payload}.${signature.slice(0, -1)}${neighbour(signature.at(-1)!)}`, /signature/],
      [other, /signature/],
      [`${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, /not made here/],
      [`${b64({ alg: 'HS512', typ: 'JWT' })}.${payload}.${signature}`, /not made here/],
      [`${header}.${payload}`, /not a JWT/],
      ['', /not a JWT/],
      ['a.b.c.d', /not a JWT/],
    ]
    for (const [forged, why] of refusals) {
      expect(() => signer.verify(forged), forged).toThrow(why)
      try {
        signer.verify(forged)
      } catch (error) {
        expect((error as { code: string }).code).toBe('LAB_ERR_AUTH')
      }
    }
  })
})
