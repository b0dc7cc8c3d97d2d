// TRUST_PROXY: behind a balancer every connection comes from the balancer's
// address. The lab believes X-Forwarded-For from the proxies it is told to
// trust, and from no one else, so a class behind `npm run cluster`'s nginx is
// counted student by student and none of them is taken for the server's own
// machine. The balancer here is a small node:http proxy that appends its
// client's address as nginx's $proxy_add_x_forwarded_for does; its clients
// come from other local addresses (127.0.0.2, 127.0.0.3) and from this
// machine's network address, which stands for a student's laptop.
import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server } from 'node:http'
import { connect, type Socket as NetSocket } from 'node:net'
import { networkInterfaces } from 'node:os'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import { closed, welcomed } from '../support/settled.ts'
import { TrustedProxies } from '../../server/client-address.ts'
import { ConfigError, loadConfig } from '../../server/config.ts'
import { rawConnect, type RawConnection } from '../support/raw.ts'
import { requestFrom } from '../support/from-address.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

/** This machine's address on its network: a client there is not on the loopback, as a student's laptop is not. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address

/** Stops whatever a test opened, even when it failed half-way. */
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('the client address a request is counted under', () => {
  const from = (remoteAddress: string, forwardedFor?: string) =>
    ({
      socket: { remoteAddress },
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    }) as unknown as IncomingMessage

  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const nobody = new TrustedProxies('')
    expect(nobody.clientAddress(from('127.0.0.1', '10.1.2.3'))).toBe('127.0.0.1')
    expect(nobody.clientAddress(from('192.0.2.9', '127.0.0.1'))).toBe('192.0.2.9')
  })

  it('is the TCP peer when that peer is not a trusted proxy', () => {
    const proxies = new TrustedProxies('loopback')
    expect(proxies.clientAddress(from('192.0.2.9', '127.0.0.1'))).toBe('192.0.2.9')
    expect(proxies.clientAddress(from('::ffff:192.0.2.9', '10.1.2.3'))).toBe('::ffff:192.0.2.9')
  })

  it('is the right-most forwarded address that is not itself a trusted proxy, along a chain of them', () => {
    const proxies = new TrustedProxies('loopback, 172.16.0.0/12, fd00::/8')
    expect(proxies.clientAddress(from('127.0.0.1', '10.1.2.3'))).toBe('10.1.2.3')
    // The client wrote 6.6.6.6 itself; 172.20.1.1 is a trusted proxy in the middle.
    expect(proxies.clientAddress(from('127.0.0.1', '6.6.6.6, 203.0.113.9, 172.20.1.1'))).toBe('203.0.113.9')
    expect(proxies.clientAddress(from('::1', '2001:DB8::7, fd12:3456::1'))).toBe('2001:db8::7')
    expect(proxies.clientAddress(from('fd00::2', '2001:db8::7'))).toBe('2001:db8::7')
    expect(proxies.clientAddress(from('::ffff:127.0.0.1', '10.1.2.3'))).toBe('10.1.2.3')
    // A proxy outside the CIDRs is a client like any other, though it forwards.
    expect(proxies.clientAddress(from('127.0.0.1', '10.1.2.3, 172.32.0.1'))).toBe('172.32.0.1')
  })

  it('is the first hop when every hop is a trusted proxy (a client on the proxy machine itself)', () => {
    const proxies = new TrustedProxies('loopback')
    expect(proxies.clientAddress(from('127.0.0.1', '127.0.0.1'))).toBe('127.0.0.1')
    expect(proxies.clientAddress(from('127.0.0.1', '127.0.0.2, 127.0.0.1'))).toBe('127.0.0.2')
  })

  it('reads the forms with a port that some proxies write', () => {
    const proxies = new TrustedProxies('127.0.0.1, ::1')
    expect(proxies.clientAddress(from('127.0.0.1', '192.0.2.7:5123'))).toBe('192.0.2.7')
    expect(proxies.clientAddress(from('::1', '[2001:db8::7]:443'))).toBe('2001:db8::7')
    expect(proxies.clientAddress(from('::1', '[2001:db8::8]'))).toBe('2001:db8::8')
  })

  it('falls back to the TCP peer on a header that is missing, empty or malformed before the client is reached', () => {
    const proxies = new TrustedProxies('loopback')
    for (const header of [
      undefined,
      '',
      ' , ',
      'garbage',
      '10.1.2.3, garbage',
      '10.1.2.3, 999.1.1.1',
      '[::1',
      'fe80::1%eth0',
      'unknown',
      '10.1.2.3:99999',
      `${'1.2.3.4, '.repeat(1000)}nonsense`,
    ])
      expect(proxies.clientAddress(from('127.0.0.1', header)), String(header).slice(0, 40)).toBe('127.0.0.1')
    // Garbage left of the client is what that client wrote, never read.
    expect(proxies.clientAddress(from('127.0.0.1', 'garbage, 10.1.2.3'))).toBe('10.1.2.3')
  })

  it('is a setting, TRUST_PROXY or --trust-proxy, refused with the entry named when it is no address or CIDR', () => {
    expect(loadConfig([], {})).toMatchObject({ trustProxy: '' })
    expect(loadConfig([], { TRUST_PROXY: 'loopback, 10.0.0.0/8, 192.0.2.1, fd00::/8, ::1' })).toMatchObject({
      trustProxy: 'loopback, 10.0.0.0/8, 192.0.2.1, fd00::/8, ::1',
    })
    expect(loadConfig(['--trust-proxy', '127.0.0.1'], {})).toMatchObject({ trustProxy: '127.0.0.1' })
    for (const bad of ['10.0.0.0/33', 'fd00::/129', 'nginx', '10.0.0.1/', '10.0.0.0/8/8', 'fe80::1%eth0']) {
      expect(() => loadConfig([], { TRUST_PROXY: bad }), bad).toThrow(ConfigError)
      expect(() => loadConfig([], { TRUST_PROXY: `loopback, ${bad}` }), bad).toThrow(
        `TRUST_PROXY is invalid: ${JSON.stringify(bad)} is not a proxy address`,
      )
    }
  })
})

interface Balancer {
  port: number
  close(): Promise<void>
}

/**
 * A balancer in front of the lab on `target`: every request and upgrade is
 * forwarded on a connection of its own from 127.0.0.1, with the client's
 * X-Forwarded-For and the client's address appended.
 */
async function startBalancer(target: number): Promise<Balancer> {
  const forwardedFor = (req: IncomingMessage) => {
    const prior = req.headers['x-forwarded-for']
    const own = req.socket.remoteAddress ?? ''
    return prior ? `${String(prior)}, ${own}` : own
  }
  const tunnels = new Set<NetSocket>()
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: target,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-forwarded-for': forwardedFor(req) },
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.destroy())
    res.on('close', () => upstream.destroy())
    req.pipe(upstream)
  })
  // An upgrade is passed on as bytes: the head with the header appended, then both ways whatever follows.
  server.on('upgrade', (req: IncomingMessage, client: NetSocket, head: Buffer) => {
    const upstream = connect(target, '127.0.0.1')
    tunnels.add(client).add(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
      tunnels.delete(client)
      tunnels.delete(upstream)
    }
    for (const socket of [client, upstream]) socket.on('error', end).on('close', end)
    const lines = [`${req.method} ${req.url} HTTP/1.1`]
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      if (req.rawHeaders[i]!.toLowerCase() !== 'x-forwarded-for')
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`)
    lines.push(`X-Forwarded-For: ${forwardedFor(req)}`)
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`)
    upstream.write(head)
    upstream.pipe(client).pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (!address || typeof address !== 'object') throw new Error('the balancer has no address')
  return {
    port: address.port,
    close: async () => {
      for (const socket of tunnels) socket.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** One client machine: its connections to `port` leave from `localAddress`. */
function clientAt(port: number, localAddress: string) {
  const base = `127.0.0.1:${port}`
  return {
    webSocket(query: string, headers: Record<string, string> = {}): WebSocket {
      const ws = new WebSocket(`ws://${base}/ws?${query}`, { localAddress, headers })
      cleanups.push(() => ws.terminate())
      return ws
    },
    socketIo(room: string): Socket {
      const agent = new Agent({ localAddress })
      const socket = io(`http://${base}`, {
        forceNew: true,
        reconnection: false,
        auth: { protocol: 'lab', room },
        agent: agent as never,
        localAddress,
      } as never)
      cleanups.push(() => {
        socket.disconnect()
        agent.destroy()
      })
      return socket
    },
    /** A GET's answer; one that is held stays open until the test ends. */
    get(path: string): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, localAddress, agent: false })
        cleanups.push(() => req.destroy())
        req.on('response', (res) => {
          let body = ''
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
    },
    /** An SSE stream's status; a 200 stays open until the test ends. */
    sse(query: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: `/sse?${query}`, localAddress, agent: false, headers })
        req.on('response', (res) => {
          cleanups.push(() => res.destroy())
          if (res.statusCode === 200) return resolve({ status: 200, body: '' })
          let body = ''
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
        })
        req.on('error', reject)
        req.end()
      })
    },
  }
}

/** The welcome, which must be the WebSocket's first message: a refusal's first is an error. */
function welcomeOf(ws: WebSocket): Promise<{ connectionId: string }> {
  return new Promise((resolve, reject) => {
    ws.once('message', (data: Buffer) => {
      const first = JSON.parse(data.toString()) as { type: string; connectionId: string }
      if (first.type === 'welcome') resolve(first)
      else reject(new Error(`a ${first.type} instead of a welcome: ${data.toString()}`))
    })
    ws.once('error', reject)
  })
}

function refusedCode(socket: Socket): Promise<string | undefined> {
  return new Promise((resolve) =>
    socket.once('connect_error', (error: Error & { data?: { code?: string } }) => resolve(error.data?.code)),
  )
}

describe('without TRUST_PROXY', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer({ maxClientsPerAddress: 2 })
  })
  afterAll(async () => {
    await server.close()
  })

  it('counts WebSockets and SSE streams by their TCP peer, whatever X-Forwarded-For they forge', async () => {
    const me = clientAt(server.port, '127.0.0.1')
    const sockets = ['10.0.0.1', '10.0.0.2'].map((xff) => me.webSocket('room=forged', { 'x-forwarded-for': xff }))
    await Promise.all(sockets.map(welcomeOf))
    const extra = me.webSocket('room=forged', { 'x-forwarded-for': '10.0.0.3' })
    expect(await closed(extra)).toEqual({ code: 1008, reason: 'LAB_ERR_TOO_MANY_CONNECTIONS' })

    const streams = await Promise.all(
      ['10.0.0.1', '10.0.0.2'].map((xff) => me.sse('room=forged', { 'x-forwarded-for': xff })),
    )
    expect(streams.map((s) => s.status)).toEqual([200, 200])
    const refused = await me.sse('room=forged', { 'x-forwarded-for': '10.0.0.3' })
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
  })

  it("keeps the server's own machine the instructor, and another machine not, whatever X-Forwarded-For says", async () => {
    const local = await requestFrom(server.port, '127.0.0.1', 'GET', '/api/wire/handshakes', undefined, {
      'x-forwarded-for': '10.1.2.3',
    })
    expect(local.status).toBe(200)
    expect(outside, 'this machine has a network address').toBeDefined()
    const away = await requestFrom(server.port, outside!, 'GET', '/api/wire/handshakes', undefined, {
      'x-forwarded-for': '127.0.0.1',
    })
    expect(away.status).toBe(403)
    expect(away.body).toMatchObject({ code: 'LAB_ERR_FORBIDDEN' })
  })
})

describe('logging in behind a balancer with TRUST_PROXY=loopback', () => {
  let server: RunningServer
  let balancer: Balancer
  beforeAll(async () => {
    server = await startServer({ classCode: 'right-code', maxClientsPerAddress: 0, trustProxy: 'loopback' })
    balancer = await startBalancer(server.port)
  })
  afterAll(async () => {
    await balancer.close()
    await server.close()
  })

  it("counts one client's wrong codes against that client, not the classmates behind the same balancer", async () => {
    const login = (address: string, code: string, name: string) =>
      requestFrom(balancer.port, address, 'POST', '/api/login', JSON.stringify({ code, name }))
    const wrong: number[] = []
    for (let i = 0; i < 11; i++) wrong.push((await login('127.0.0.2', `guess-${i}`, 'mallory')).status)
    expect(wrong.at(-1)).toBe(429)
    expect((await login('127.0.0.3', 'right-code', 'ann')).status).toBe(200)
  })
})

describe('with TRUST_PROXY=loopback behind a balancer', () => {
  let server: RunningServer
  let balancer: Balancer
  beforeAll(async () => {
    server = await startServer({ maxClientsPerAddress: 2, messageRate: 1, messageBurst: 3, trustProxy: 'loopback' })
    balancer = await startBalancer(server.port)
  })
  afterAll(async () => {
    await balancer.close()
    await server.close()
  })

  it("takes a client on another machine for that machine, not the server's own, even when it forges loopback", async () => {
    expect(outside, 'this machine has a network address').toBeDefined()
    for (const forged of [{}, { 'x-forwarded-for': '127.0.0.1' }] as Array<Record<string, string>>) {
      const handshakes = await requestFrom(balancer.port, outside!, 'GET', '/api/wire/handshakes', undefined, forged)
      expect(handshakes.status).toBe(403)
      expect(handshakes.body).toMatchObject({ code: 'LAB_ERR_FORBIDDEN' })
      const reset = await requestFrom(balancer.port, outside!, 'POST', '/api/wire/reset', '{}', forged)
      expect(reset.status).toBe(403)
    }
  })

  it('takes a request a trusted proxy forwards for 10.1.2.3 for that client, not the instructor', async () => {
    const forwarded = await requestFrom(server.port, '127.0.0.1', 'GET', '/api/wire/handshakes', undefined, {
      'x-forwarded-for': '10.1.2.3',
    })
    expect(forwarded.status).toBe(403)
    expect(forwarded.body).toMatchObject({ code: 'LAB_ERR_FORBIDDEN' })
  })

  it("still takes a browser on the server's own machine, through the balancer, for the instructor", async () => {
    const local = await requestFrom(balancer.port, '127.0.0.1', 'GET', '/api/wire/handshakes')
    expect(local.status).toBe(200)
  })

  it('gives two clients of the balancer a WebSocket limit each', async () => {
    const [ann, bob] = [clientAt(balancer.port, '127.0.0.2'), clientAt(balancer.port, '127.0.0.3')]
    const anns = [ann.webSocket('room=crowd'), ann.webSocket('room=crowd')]
    await Promise.all(anns.map(welcomeOf))
    expect(await closed(ann.webSocket('room=crowd'))).toEqual({ code: 1008, reason: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    await Promise.all([bob.webSocket('room=crowd'), bob.webSocket('room=crowd')].map(welcomeOf))
  })

  it('gives two clients of the balancer an SSE limit each', async () => {
    const [ann, bob] = [clientAt(balancer.port, '127.0.0.2'), clientAt(balancer.port, '127.0.0.3')]
    expect((await Promise.all([ann.sse('room=crowd'), ann.sse('room=crowd')])).map((s) => s.status)).toEqual([200, 200])
    const refused = await ann.sse('room=crowd')
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    expect((await Promise.all([bob.sse('room=crowd'), bob.sse('room=crowd')])).map((s) => s.status)).toEqual([200, 200])
  })

  it('gives two clients of the balancer a Socket.IO limit each', async () => {
    const [ann, bob] = [clientAt(balancer.port, '127.0.0.2'), clientAt(balancer.port, '127.0.0.3')]
    await Promise.all([ann.socketIo('crowd'), ann.socketIo('crowd')].map(welcomed))
    expect(await refusedCode(ann.socketIo('crowd'))).toBe('LAB_ERR_TOO_MANY_CONNECTIONS')
    await Promise.all([bob.socketIo('crowd'), bob.socketIo('crowd')].map(welcomed))
  })

  it('gives two clients of the balancer a limit each on long polls held and on polling sessions', async () => {
    const [ann, bob] = [clientAt(balancer.port, '127.0.0.2'), clientAt(balancer.port, '127.0.0.3')]
    const head = (await (await fetch(`${server.url}/poll?room=held`)).json()) as { seq: number }
    const poll = `/long-poll?room=held&since=${head.seq}&timeout=60000`
    const held = () => server.app.wire.snapshot().transports['long-polling']!.requestsHeld
    // Held until the test ends, when they are cut.
    const holding = (client: typeof ann) => void client.get(poll).catch(() => undefined)
    holding(ann)
    holding(ann)
    await until(() => held() === 2 || undefined, "ann's two polls to be held")
    const refused = await ann.get(poll)
    expect(refused.status).toBe(429)
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    holding(bob)
    holding(bob)
    await until(() => held() === 4 || undefined, "bob's two polls to be held beside ann's")

    const join = (address: string) =>
      requestFrom(balancer.port, address, 'POST', '/poll', JSON.stringify({ type: 'join', room: 'sessions' }))
    expect([(await join('127.0.0.2')).status, (await join('127.0.0.2')).status]).toEqual([200, 200])
    expect(await join('127.0.0.2')).toMatchObject({ status: 429, body: { code: 'LAB_ERR_TOO_MANY_CONNECTIONS' } })
    expect([(await join('127.0.0.3')).status, (await join('127.0.0.3')).status]).toEqual([200, 200])
  })

  it('gives two clients of the balancer a message rate each for sends without a session', async () => {
    // Addresses of their own: a polling join counts against its address's rate too.
    const send = (address: string, text: string) =>
      requestFrom(balancer.port, address, 'POST', '/poll', JSON.stringify({ type: 'send', room: 'anon', text }))
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await send('127.0.0.6', `ann ${i}`)).status)
    expect(statuses).toContain(429)
    expect((await send('127.0.0.7', 'bob')).status).toBe(200)
  })

  it('shows a client its own handshake through the balancer, and another client of the balancer nothing', async () => {
    // Addresses of their own: the other tests' sockets may not have left the server's counts yet.
    const { connectionId } = await welcomeOf(clientAt(balancer.port, '127.0.0.4').webSocket('room=mine&name=ann'))
    const path = `/api/wire/handshakes/${connectionId}`
    const own = await requestFrom(balancer.port, '127.0.0.4', 'GET', path)
    expect(own.status).toBe(200)
    expect(JSON.stringify(own.body)).toContain('name=ann')
    const other = await requestFrom(balancer.port, '127.0.0.5', 'GET', path)
    expect(other.status).toBe(404)
  })

  it("never counts the balancer's own TCP connections as one client's", async () => {
    // MAX_CLIENTS_PER_ADDRESS 2 allows 12 connections to an address; the balancer needs more for its clients.
    const held: RawConnection[] = []
    cleanups.push(() => held.forEach((c) => c.socket.destroy()))
    for (let i = 0; i < 14; i++) held.push(await rawConnect(server.port))
    for (const conn of held) conn.socket.write('GET /api/time HTTP/1.1\r\nHost: lab\r\n\r\n')
    await until(
      () => held.every((c) => c.closed() || c.received().includes('\r\n')) || undefined,
      'every connection to be answered',
    )
    expect(held.map((c) => c.received().toString('latin1').split('\r\n')[0])).toEqual(held.map(() => 'HTTP/1.1 200 OK'))
  })

  it('ignores a garbage X-Forwarded-For: the request counts as its TCP peer, and nothing breaks', async () => {
    const me = clientAt(server.port, '127.0.0.1')
    const garbage = ['not an address', '10.1.2.3, nonsense', '[::1', `${'%'.repeat(4000)}`]
    const first = me.webSocket('room=garbage', { 'x-forwarded-for': garbage[0]! })
    const second = me.webSocket('room=garbage', { 'x-forwarded-for': garbage[1]! })
    await Promise.all([first, second].map(welcomeOf))
    // Both counted as 127.0.0.1 itself, which has no room left.
    expect(await closed(me.webSocket('room=garbage'))).toEqual({ code: 1008, reason: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    for (const header of garbage) {
      const answer = await requestFrom(server.port, '127.0.0.1', 'GET', '/api/wire/handshakes', undefined, {
        'x-forwarded-for': header,
      })
      expect(answer.status, header.slice(0, 20)).toBe(200)
    }
  })
})
