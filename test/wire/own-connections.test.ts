// A page's own connection on the wire meter: GET /api/wire?connections=ID
// adds, for the streams opened on the connection its welcome named, the same
// counts as a transport's, for that stream alone, and only to the address that
// opened it. A polling session is one stream across the keep-alive connections
// its requests arrive on; the page's other requests on those connections (its
// reading of /api/wire, say) are not part of it, and do not take the
// connection from the transport in "connections open" either.
import { Agent, request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Welcome } from '../../server/core/protocol.ts'
import type { ConnectionTallies, StreamTally, WireSnapshot } from '../../server/wire/types.ts'
import { createClient, waitForText, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
const opened: LabClient[] = []
beforeAll(async () => {
  server = await startServer({ maxClientsPerAddress: 0, messageRate: 0, wsHeartbeatMs: 600_000 })
})
afterAll(async () => {
  for (const client of opened) await client.close()
  await server.close()
})

interface Exchange {
  status: number
  json: Record<string, unknown>
  /** Bytes this request put on its socket and the bytes of its answer, as the client's socket counted them. */
  sent: number
  received: number
}

/** Where each client socket's counters stood after its last answer: what comes after belongs to the next exchange. */
const settled = new WeakMap<Socket, { read: number; written: number }>()

/** One request on `agent` (a keep-alive pool), from `localAddress`; JSON in and out. */
function exchange(
  agent: Agent | false,
  method: string,
  path: string,
  options: { session?: string; body?: object; localAddress?: string } = {},
): Promise<Exchange> {
  const body = options.body === undefined ? '' : JSON.stringify(options.body)
  const headers: Record<string, string> = options.session ? { 'x-lab-session': options.session } : {}
  if (body) headers['content-type'] = 'application/json'
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method, path, agent, headers, localAddress: options.localAddress },
      (res) => {
        // Taken now: a keep-alive agent lets go of the socket before the answer's end is seen.
        const socket = res.socket
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => {
          const before = settled.get(socket) ?? { read: 0, written: 0 }
          const after = { read: socket.bytesRead, written: socket.bytesWritten }
          settled.set(socket, after)
          resolve({
            status: res.statusCode ?? 0,
            json: JSON.parse(text) as Record<string, unknown>,
            sent: after.written - before.written,
            received: after.read - before.read,
          })
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** GET /api/wire?connections=... on a connection of its own, from `localAddress`. */
async function reading(ids: string[], localAddress = '127.0.0.1') {
  const res = await exchange(false, 'GET', `/api/wire?connections=${ids.join(',')}`, { localAddress })
  return res.json as unknown as WireSnapshot & { connections: ConnectionTallies }
}

async function own(id: string, transport: string): Promise<StreamTally | undefined> {
  return (await reading([id])).connections[id]?.[transport]
}

describe('GET /api/wire?connections=...', () => {
  it("counts a polling session's own bytes to the byte, across two keep-alive connections, without the page's other requests on them", async () => {
    const first = new Agent({ keepAlive: true, maxSockets: 1 })
    const second = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const session: Exchange[] = []
      const join = await exchange(first, 'POST', '/poll', { body: { type: 'join', room: 'own-poll', name: 'poller' } })
      session.push(join)
      const welcome = join.json as unknown as Welcome
      const token = welcome.session!
      const path = `/poll?room=own-poll&since=${welcome.seq}&epoch=${welcome.epoch}`
      // The page reads the meter and fetches other things on the same connections as its polls.
      await exchange(first, 'GET', '/api/wire')
      session.push(await exchange(first, 'GET', path, { session: token }))
      session.push(await exchange(second, 'GET', path, { session: token }))
      await exchange(second, 'GET', '/api/rooms')
      const send = { type: 'send', room: 'own-poll', text: 'counted once' }
      session.push(await exchange(second, 'POST', '/poll', { session: token, body: send }))
      // A send refused as malformed came over the wire all the same.
      const refused = { type: 'send', room: 'own-poll' }
      const bad = await exchange(second, 'POST', '/poll', { session: token, body: refused })
      expect(bad.status).toBe(400)
      session.push(bad)
      session.push(await exchange(first, 'GET', path, { session: token }))
      // Another client in the room, on its own connections.
      const other = createClient('short-polling', server.url, 'other')
      opened.push(other)
      await other.join('own-poll')
      await other.send('own-poll', 'not mine to count')

      const tally = (await own(welcome.connectionId!, 'short-polling'))!
      expect(tally).toMatchObject({
        bytesIn: session.reduce((sum, e) => sum + e.sent, 0),
        bytesOut: session.reduce((sum, e) => sum + e.received, 0),
        requests: session.length,
        messagesIn: 3,
        payloadIn:
          Buffer.byteLength(JSON.stringify({ type: 'join', room: 'own-poll', name: 'poller' })) +
          Buffer.byteLength(JSON.stringify(send)) +
          Buffer.byteLength(JSON.stringify(refused)),
      })
      expect(tally.overheadIn).toBe(tally.bytesIn - tally.payloadIn)
    } finally {
      first.destroy()
      second.destroy()
    }
  })

  it("counts a WebSocket's own bytes to the byte while another client chats in its room", async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=own-ws&name=mine`)
    const tcp = new Promise<Socket>((resolve) => ws.once('upgrade', (res) => resolve(res.socket)))
    const welcome = await new Promise<Welcome>((resolve) =>
      ws.once('message', (data) => resolve(JSON.parse((data as Buffer).toString()) as Welcome)),
    )
    const socket = await tcp
    const chatter = createClient('websocket', server.url, 'chatter')
    opened.push(chatter)
    await chatter.join('own-ws')
    const mine = ['one of mine', 'two of mine'].map((text) => JSON.stringify({ type: 'send', room: 'own-ws', text }))
    for (const frame of mine) ws.send(frame)
    for (let i = 0; i < 3; i++) await chatter.send('own-ws', `chatter ${i}`)
    await waitForText(chatter, 'own-ws', 'two of mine')
    try {
      const tally = await until(async () => {
        const t = await own(welcome.connectionId!, 'websocket')
        return t && t.bytesIn === socket.bytesWritten && t.bytesOut === socket.bytesRead ? t : undefined
      }, "the stream's bytes to match what its socket carried")
      expect(tally).toMatchObject({
        messagesIn: 2,
        payloadIn: mine.reduce((sum, frame) => sum + Buffer.byteLength(frame), 0),
        requests: 1,
      })
    } finally {
      ws.close()
    }
  })

  it('follows a Socket.IO connection from its first polling request through its upgrade', async () => {
    const sio = createClient('socket.io', server.url, 'upgrader')
    opened.push(sio)
    const welcome = await sio.join('own-sio')
    const engine = (sio as LabClient & { socket: import('socket.io-client').Socket }).socket.io.engine
    await until(() => engine.transport.name === 'websocket' || undefined, 'the upgrade to WebSocket')
    const before = (await own(welcome.connectionId!, 'socket.io'))!
    // Its first request, the CONNECT, at least one poll and the upgrade.
    expect(before.requests).toBeGreaterThanOrEqual(4)
    await sio.send('own-sio', 'over the upgraded connection')
    await waitForText(sio, 'own-sio', 'over the upgraded connection')
    const after = await until(async () => {
      const t = (await own(welcome.connectionId!, 'socket.io'))!
      return t.messagesOut > before.messagesOut ? t : undefined
    }, 'the delivery counted')
    expect(after.messagesIn - before.messagesIn).toBe(1)
    expect(after.bytesIn - before.bytesIn).toBeGreaterThan(after.payloadIn - before.payloadIn)
  })

  it('keeps an SSE session one stream across its renewals, its heartbeats not counted as messages', async () => {
    const renewing = await startServer({ sseStreamMaxMs: 1000, sseHeartbeatMs: 100 })
    const sse = createClient('sse', renewing.url, 'renewed')
    try {
      const before = Date.now()
      const welcome = await sse.join('own-sse')
      const ownOn = async (id: string) => {
        const res = await fetch(`${renewing.url}/api/wire?connections=${id}`)
        return ((await res.json()) as { connections: ConnectionTallies }).connections[id]?.sse
      }
      const first = (await ownOn(welcome.connectionId!))!
      // On the server's clock, as Date.now() reads it.
      expect(first.openedAt).toBeGreaterThanOrEqual(before)
      expect(first.openedAt).toBeLessThanOrEqual(Date.now())
      const renewal = await until(() => sse.welcomes[1], 'the stream renewed', 5000)
      const renewed = await until(async () => {
        const t = await ownOn(renewal.connectionId!)
        return t && t.requests === 2 ? t : undefined
      }, 'the reopened stream listed under its welcome')
      expect(renewed.openedAt).toBe(first.openedAt)
      expect(renewed.bytesOut).toBeGreaterThan(first.bytesOut)
      // A welcome when it opened; the renewal's goodbye, heartbeats and welcome only keep it alive.
      expect(renewed.messagesOut).toBe(1)
    } finally {
      await sse.close()
      await renewing.close()
    }
  })

  it("gives another address nothing of a connection's streams, and ignores unknown ids", async () => {
    const poller = createClient('short-polling', server.url, 'private')
    opened.push(poller)
    const { connectionId } = await poller.join('own-private')
    const foreign = await reading([connectionId!, 'c999999'], '127.0.0.2')
    expect(foreign.connections).toEqual({})
    expect(foreign.transports['short-polling']).toBeDefined()
    const mine = await reading([connectionId!, 'c999999'])
    expect(Object.keys(mine.connections)).toEqual([connectionId])
    expect(mine.connections[connectionId!]!['short-polling']!.requests).toBeGreaterThanOrEqual(1)
  })

  it('answers as before without the query: everyone\'s figures, no "connections"', async () => {
    const plain = await exchange(false, 'GET', '/api/wire')
    expect(Object.keys(plain.json)).toEqual(['at', 'transports', 'total', 'hub'])
  })
})

describe('connections open per transport', () => {
  it("counts a short poller's keep-alive connection for short polling while it also reads /api/wire on it", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const join = await exchange(agent, 'POST', '/poll', { body: { type: 'join', room: 'own-conns', name: 'c' } })
      const welcome = join.json as unknown as Welcome
      for (let i = 0; i < 3; i++) {
        await exchange(agent, 'GET', `/poll?room=own-conns&since=${welcome.seq}`, { session: welcome.session })
        await exchange(agent, 'GET', '/api/wire')
      }
      expect(server.app.wire.snapshot().transports['short-polling']!.connectionsOpen).toBeGreaterThanOrEqual(1)
      const listed = server.app.wire.connections().find((c) => c.connectionId === welcome.connectionId)
      expect(listed?.transport).toBe('short-polling')
    } finally {
      agent.destroy()
    }
  })
})

const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address

describe('POST /api/wire/reset', () => {
  it.skipIf(!outside)("refuses another machine than the server's with 403 and says where it can be done", async () => {
    const res = await exchange(false, 'POST', '/api/wire/reset', { localAddress: outside })
    expect(res.status).toBe(403)
    expect(res.json).toMatchObject({ type: 'error', code: 'LAB_ERR_FORBIDDEN' })
    expect(res.json.message).toContain("server's own machine")
    expect(server.app.wire.snapshot().total.httpRequests).toBeGreaterThan(1)
  })

  it('zeroes every count for everyone, own streams included, and keeps connections open and requests held', async () => {
    const held = createClient('sse', server.url, 'held')
    opened.push(held)
    const welcome = await held.join('own-reset')
    await held.send('own-reset', 'counted before the reset')
    await waitForText(held, 'own-reset', 'counted before the reset')
    const before = server.app.wire.snapshot()
    expect(before.transports.sse).toMatchObject({ requestsHeld: 1 })
    expect(before.transports.sse!.bytesOut).toBeGreaterThan(0)

    const res = await exchange(false, 'POST', '/api/wire/reset')
    expect(res.status).toBe(200)
    const after = res.json as unknown as WireSnapshot
    for (const [transport, t] of Object.entries(after.transports)) {
      const { connectionsOpen: _open, requestsHeld: _held, ...counts } = t
      // The reset's own request was read before it, and nothing runs between the reset and its answer.
      expect(counts, transport).toEqual(Object.fromEntries(Object.keys(counts).map((key) => [key, 0])))
    }
    // The stream still open and held: states, not counts.
    expect(after.transports.sse!.requestsHeld).toBe(1)
    expect(after.transports.sse!.connectionsOpen).toBeGreaterThanOrEqual(1)
    expect(await own(welcome.connectionId!, 'sse')).toMatchObject({ bytesOut: 0, messagesOut: 0, requests: 0 })
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toContain('lab_http_requests_total{transport="sse"} 0')
  })
})
