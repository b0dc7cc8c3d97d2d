// Which URL the Invite card gives the class, from the server's answer to
// GET /api/join and the address the instructor's page was opened at.
import { describe, expect, it } from 'vitest'
import { invitation } from '../../ui/src/state/invitation.ts'

const lan = { host: '0.0.0.0', port: 3000, urls: ['http://192.168.1.20:3000/', 'http://10.0.0.7:3000/'] }

describe("the Invite card's URL", () => {
  it("is the server's first network address for a page opened at localhost, the others listed", () => {
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://[::1]:3000'])
      expect(invitation(origin, lan), origin).toEqual({
        kind: 'open',
        url: 'http://192.168.1.20:3000/',
        others: ['http://10.0.0.7:3000/'],
      })
  })

  it("is the page's own address when other machines can use it, named once", () => {
    expect(invitation('http://10.0.0.7:3000', lan)).toEqual({
      kind: 'open',
      url: 'http://10.0.0.7:3000/',
      others: ['http://192.168.1.20:3000/'],
    })
  })

  it("is the page's own name when a proxy in front of a loopback-bound server reached it", () => {
    expect(invitation('https://lab.school.example', { host: '127.0.0.1', port: 3000, urls: [] })).toEqual({
      kind: 'open',
      url: 'https://lab.school.example/',
      others: [],
    })
  })

  it('is none when the server listens on this machine only, which the card says with the address', () => {
    expect(invitation('http://localhost:3000', { host: '127.0.0.1', port: 3000, urls: [] })).toEqual({
      kind: 'this-machine-only',
      host: '127.0.0.1',
      port: 3000,
    })
  })

  it('is none when the server listens on every interface of a machine with no network', () => {
    expect(invitation('http://localhost:3000', { host: '::', port: 8080, urls: [] })).toEqual({
      kind: 'no-network',
      port: 8080,
    })
  })
})
