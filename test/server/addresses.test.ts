// What the start banner tells a class: every address the server can be reached at.
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os'
import { describe, expect, it } from 'vitest'
import { classUrls, servedUrls } from '../../server/addresses.ts'
import { startServerProcess } from '../support/process.ts'

const nic = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({
    address,
    family,
    internal,
    netmask: '',
    mac: '',
    cidr: null,
    ...(family === 'IPv6' ? { scopeid: 0 } : {}),
  }) as NetworkInterfaceInfo
const machine = {
  lo: [nic('127.0.0.1', 'IPv4', true), nic('::1', 'IPv6', true)],
  eth0: [nic('192.168.1.20', 'IPv4'), nic('fe80::1', 'IPv6'), nic('2001:db8::20', 'IPv6')],
  wlan0: [nic('10.0.0.7', 'IPv4')],
}

describe('the URLs the server is reached at', () => {
  it('are the one host it is bound to', () => {
    expect(servedUrls('127.0.0.1', 3000, machine)).toEqual(['http://127.0.0.1:3000/'])
    expect(servedUrls('192.168.1.20', 3000, machine)).toEqual(['http://192.168.1.20:3000/'])
  })

  it("are, bound to every interface, localhost and each of the machine's external IPv4 addresses", () => {
    expect(servedUrls('0.0.0.0', 3000, machine)).toEqual([
      'http://localhost:3000/',
      'http://192.168.1.20:3000/',
      'http://10.0.0.7:3000/',
    ])
  })

  it('include routable IPv6 addresses, in brackets, when bound to ::', () => {
    expect(servedUrls('::', 8080, machine)).toEqual([
      'http://localhost:8080/',
      'http://192.168.1.20:8080/',
      'http://[2001:db8::20]:8080/',
      'http://10.0.0.7:8080/',
    ])
  })

  it('are printed when the server starts on every interface, one per line', async () => {
    const server = await startServerProcess({ HOST: '0.0.0.0' })
    try {
      expect(server.url).toMatch(/^http:\/\/localhost:\d+$/)
      const port = new URL(server.url).port
      const external = Object.values(networkInterfaces())
        .flatMap((list) => list ?? [])
        .filter((i) => !i.internal && i.family === 'IPv4')
      for (const i of external) expect(server.output()).toContain(`On your network: http://${i.address}:${port}/`)
      // Every address printed answers.
      for (const i of external) expect((await fetch(`http://${i.address}:${port}/`)).status).toBe(200)
    } finally {
      server.child.kill('SIGINT')
      await server.exited
    }
  })
})

describe('the URLs a class can open from other machines', () => {
  it('are none when the server is bound to this machine only', () => {
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost', '::ffff:127.0.0.1'])
      expect(classUrls(host, 3000, machine), host).toEqual([])
  })

  it('are the network addresses, without localhost, when it is bound to every interface', () => {
    expect(classUrls('0.0.0.0', 3000, machine)).toEqual(['http://192.168.1.20:3000/', 'http://10.0.0.7:3000/'])
    expect(classUrls('::', 3000, machine)).toEqual([
      'http://192.168.1.20:3000/',
      'http://[2001:db8::20]:3000/',
      'http://10.0.0.7:3000/',
    ])
  })

  it('are the one address it is bound to when that is a network address', () => {
    expect(classUrls('192.168.1.20', 3000, machine)).toEqual(['http://192.168.1.20:3000/'])
  })

  it('are none on a machine with no network, even bound to every interface', () => {
    expect(classUrls('0.0.0.0', 3000, { lo: machine.lo })).toEqual([])
  })
})
