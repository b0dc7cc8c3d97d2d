import { randomBytes } from 'node:crypto'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS } from '../../server/core/names.ts'
import { NETWORK_PROFILES, type NetworkProfile } from '../../server/network/profiles.ts'
import { NetworkRelays, SHAPED_QUEUE_BYTES } from '../../server/network/relay.ts'
import { createClient, waitForText } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

interface NetworkAnswer {
  directPort: number
  current: string | null
  profiles: Array<NetworkProfile & { port: number }>
}

describe('the shaped network ports', () => {
  let server: RunningServer
  let network: NetworkAnswer
  const through = (id: string) => `http://127.0.0.1:${network.profiles.find((p) => p.id === id)!.port}`

  beforeAll(async () => {
    server = await startServer()
    network = (await (await fetch(`${server.url}/api/network`)).json()) as NetworkAnswer
  })
  afterAll(() => server.close())

  it("gives the server a relayed connection with its client's address and port, not the relay's", async () => {
    const seen: Array<number | undefined> = []
    server.app.edge.tapConnections((socket) => seen.push(socket.remotePort))
    const raw = connect(network.profiles[0]!.port, '127.0.0.1')
    await new Promise((resolve) => raw.once('connect', resolve))
    raw.write('GET /api/time HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise((resolve) => raw.once('data', resolve))
    const clientPort = raw.localPort
    raw.destroy()
    expect(seen).toEqual([clientPort])
  })

  it('names every profile with its port, and says a direct request came through none', () => {
    expect(network.directPort).toBe(server.port)
    expect(network.current).toBeNull()
    expect(network.profiles.map((p) => p.id)).toEqual(NETWORK_PROFILES.map((p) => p.id))
    for (const profile of network.profiles) expect(profile.port).not.toBe(server.port)
  })

  it('tells a page loaded through a port which network it is behind', async () => {
    const answer = (await (await fetch(`${through('3g')}/api/network`)).json()) as NetworkAnswer
    expect(answer.current).toBe('3g')
    expect(answer.directPort).toBe(server.port)
  })

  it("lets a page on a shaped port read the meter and the clock from the server's own port, and nothing else", async () => {
    const allowed = async (path: string, origin: string) =>
      (await fetch(`${server.url}${path}`, { headers: { origin } })).headers.get('access-control-allow-origin')
    expect(await allowed('/api/wire', through('3g'))).toBe(through('3g'))
    expect(await allowed('/api/time', through('gprs'))).toBe(through('gprs'))
    expect(await allowed('/api/rooms', through('3g'))).toBeNull()
    expect(await allowed('/api/wire', `http://elsewhere.example:${network.profiles[0]!.port}`)).toBeNull()
    expect(await allowed('/api/wire', server.url)).toBeNull()
  })

  const threeG = NETWORK_PROFILES.find((p) => p.id === '3g')!
  for (const transport of TRANSPORTS) {
    it(`delivers a message to a ${transport} client behind 3G no sooner than the one-way delay after the server stamped it`, async () => {
      const room = `shaped-${transport.replace('.', '-')}`
      const shaped = createClient(transport, through('3g'), `far-${transport}`)
      const sender = createClient('websocket', server.url, 'near')
      try {
        await shaped.join(room)
        await sender.join(room)
        await sender.send(room, 'over the slow link')
        const message = await waitForText(shaped, room, 'over the slow link')
        // Read after the client had it: later than its arrival, so still a lower bound on the delay.
        expect(Date.now() - message.serverAt).toBeGreaterThanOrEqual(threeG.rttMs / 2)
      } finally {
        await shaped.close()
        await sender.close()
      }
    })
  }
})

describe('a server with shaped ports', () => {
  it('closes while a client that never hangs up is still connected through one of them', async () => {
    const server = await startServer()
    const { profiles } = (await (await fetch(`${server.url}/api/network`)).json()) as NetworkAnswer
    // Half-open allowed and never ended: only the server's side can end this connection.
    const stubborn = connect({ port: profiles[0]!.port, host: '127.0.0.1', allowHalfOpen: true })
    stubborn.on('error', () => {})
    await new Promise((resolve) => stubborn.once('connect', resolve))
    await server.close()
    stubborn.destroy()
  })
})

describe('a NetworkRelays link', () => {
  const profile: NetworkProfile = { id: 'test', label: 'test 40 ms · 8 Mbit/s', rttMs: 40, kbitps: 8000 }
  const fast: NetworkProfile = { id: 'fast', label: 'fast 2 ms · 80 Mbit/s', rttMs: 2, kbitps: 80_000 }
  let echo: Server
  let relays: NetworkRelays

  beforeAll(async () => {
    echo = createServer((socket) => socket.pipe(socket))
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
    const echoPort = (echo.address() as { port: number }).port
    relays = new NetworkRelays()
    await relays.listen([profile, fast], '127.0.0.1', 0, () => ({ host: '127.0.0.1', port: echoPort }))
  })
  afterAll(async () => {
    await relays.close()
    await new Promise((resolve) => echo.close(resolve))
  })

  it('carries a large body both ways complete, in order, and no faster than its bandwidth allows', async () => {
    const body = randomBytes(512 * 1024)
    const started = performance.now()
    const socket: Socket = connect(relays.listeners[0]!.port, '127.0.0.1')
    const received: Buffer[] = []
    let length = 0
    const echoed = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        received.push(chunk)
        length += chunk.length
        if (length >= body.length) resolve()
      })
      socket.on('error', reject)
    })
    socket.write(body)
    await echoed
    const elapsed = performance.now() - started
    socket.destroy()
    expect(Buffer.concat(received).equals(body)).toBe(true)
    // The body is sent out at 1,000 bytes per ms, then crosses twice: a floor from the settings alone.
    const bytesPerMs = (profile.kbitps * 1000) / 8 / 1000
    expect(elapsed).toBeGreaterThanOrEqual(body.length / bytesPerMs + profile.rttMs)
  })

  it("shares the bandwidth between a client's connections, as one link", async () => {
    const body = randomBytes(256 * 1024)
    const echo = async () => {
      const socket: Socket = connect(relays.listeners[0]!.port, '127.0.0.1')
      let length = 0
      await new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => {
          length += chunk.length
          if (length >= body.length) resolve()
        })
        socket.on('error', reject)
        socket.write(body)
      })
      socket.destroy()
    }
    const started = performance.now()
    await Promise.all([echo(), echo()])
    const bytesPerMs = (profile.kbitps * 1000) / 8 / 1000
    expect(performance.now() - started).toBeGreaterThanOrEqual((2 * body.length) / bytesPerMs + profile.rttMs)
  })

  it("holds no more than its bound of a fast sender's bytes while the link is slower, and loses none", async () => {
    const body = randomBytes(4 * 1024 * 1024)
    const socket: Socket = connect(relays.listeners[1]!.port, '127.0.0.1')
    let length = 0
    const echoed = new Promise<void>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        length += chunk.length
        if (length >= body.length) resolve()
      })
      socket.on('error', reject)
    })
    socket.write(body)
    await echoed
    await new Promise((resolve) => {
      socket.once('close', resolve)
      socket.destroy()
    })
    await until(() => relays.peakQueuedBytes > 0, 'the relay to see the connection closed')
    // One read from the socket (up to 64 KiB) may land on top of a queue just under the bound.
    expect(relays.peakQueuedBytes).toBeLessThanOrEqual(SHAPED_QUEUE_BYTES + 64 * 1024)
  })
})
