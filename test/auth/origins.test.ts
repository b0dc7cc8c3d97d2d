// Which pages may connect: the Origin allowlist on its own, with the
// machine's network interfaces and the server's ports given.
import { describe, expect, it } from 'vitest'
import { hostname } from 'node:os'
import { OriginPolicy } from '../../server/auth/origins.ts'

const lan = () => ({ eth0: [{ address: '10.0.0.5', family: 'IPv4', internal: false } as never] })
const ports = () => [3000, 3001]

describe('the origin allowlist', () => {
  describe('by default', () => {
    const policy = new OriginPolicy('', ports, lan)

    it("lets in this machine's own names and addresses, at any port", () => {
      for (const origin of [
        'http://localhost:3000',
        'http://127.0.0.1:5173',
        'http://[::1]:3002',
        'http://10.0.0.5:3000',
        `http://${hostname()}:3000`,
        'https://localhost',
      ])
        expect(policy.allows(origin), origin).toBe(true)
    })

    it('refuses any other site, a look-alike name, and what is not an http origin', () => {
      for (const origin of [
        'https://evil.example',
        'http://localhost.evil.example:3000',
        'http://10.0.0.6:3000',
        'null',
        'file://',
        'ws://localhost:3000',
        '',
      ])
        expect(policy.allows(origin), origin).toBe(false)
    })
  })

  describe('with ALLOWED_ORIGINS', () => {
    const policy = new OriginPolicy('https://lab.example.com, http://a.example:8080', ports, lan)

    it("lets in exactly the listed origins, and the server's own pages at its own ports", () => {
      expect(policy.allows('https://lab.example.com')).toBe(true)
      expect(policy.allows('http://a.example:8080')).toBe(true)
      expect(policy.allows('http://localhost:3000')).toBe(true)
      expect(policy.allows('http://10.0.0.5:3001')).toBe(true)
    })

    it('refuses the rest: another port of a listed site, another scheme, this machine at another port', () => {
      expect(policy.allows('http://a.example:8081')).toBe(false)
      expect(policy.allows('http://lab.example.com')).toBe(false)
      expect(policy.allows('http://localhost:5173')).toBe(false)
      expect(policy.allows('https://evil.example')).toBe(false)
    })

    it('lets in any origin with *', () => {
      expect(new OriginPolicy('*', ports, lan).allows('https://evil.example')).toBe(true)
    })
  })
})
