// Each page sees its own handshakes: every welcome names the TCP connection
// whose request opened the client's stream, and GET
// /api/wire/handshakes/:connectionId answers with that request and its
// response, to the address that made it, never with another client's. The
// record is pinned when the stream opens, so later requests (an SSE send, a
// poll) never replace it, and it is bounded: open connections and the last
// CLOSED_CONNECTIONS_KEPT closed ones.
import { Agent, request as httpRequest } from 'node:http'
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { Welcome } from '../../server/core/protocol.ts'
import { CLOSED_CONNECTIONS_KEPT } from '../../server/wire/handshakes.ts'
import type { Handshake } from '../../server/wire/meter.ts'
import { createClient, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { requestFrom } from '../support/from-address.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
const opened: LabClient[] = []
beforeAll(async () => {
  server = await startServer({ maxClientsPerAddress: 0 })
})
afterAll(async () => {
  for (const client of opened) await client.close()
  await server.close()
})

async function own(welcome: Welcome): Promise<Record<string, Handshake>> {
  expect(welcome.connectionId).toMatch(/^c\d+$/)
  const res = await fetch(`${server.url}/api/wire/handshakes/${welcome.connectionId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, Handshake>
}

/** A request header's value, whatever the case its name was sent in. */
function header(handshake: Handshake, name: string): string | undefined {
  return handshake.request.headers.find(([key]) => key.toLowerCase() === name)?.[1]
}

async function joined(transport: Parameters<typeof createClient>[0], name: string): Promise<[LabClient, Welcome]> {
  const client = createClient(transport, server.url, name)
  opened.push(client)
  return [client, await client.join('own')]
}

/**
 * Connections come and go, ten at a time, more of them than the log keeps once closed: `passing` opens one,
 * closes it and names the connection its handshake is shown on. Resolves once the server has seen all closed.
 */
async function comeAndGo(passing: (i: number) => Promise<string>): Promise<string[]> {
  const closedIds: string[] = []
  for (let batch = 0; closedIds.length < CLOSED_CONNECTIONS_KEPT + 30; batch++)
    closedIds.push(...(await Promise.all(Array.from({ length: 10 }, (_, i) => passing(batch * 10 + i)))))
  await until(
    () => !server.app.wire.connections().some((c) => closedIds.includes(c.connectionId)) || undefined,
    'the server to see every passing connection closed',
    20_000,
  )
  return closedIds
}

describe('GET /api/wire/handshakes/:connectionId', () => {
  it.each(['websocket', 'sse'] as const)(
    "gives two %s clients each the request that opened its own stream, never the other's name=...",
    async (transport) => {
      const [, annWelcome] = await joined(transport, `ann-${transport}`)
      const [, bobWelcome] = await joined(transport, `bob-${transport}`)
      expect(bobWelcome.connectionId).not.toBe(annWelcome.connectionId)
      const ann = (await own(annWelcome))[transport]!
      const bob = (await own(bobWelcome))[transport]!
      expect(ann.request.startLine).toMatch(new RegExp(`^GET /(ws|sse)\\?room=own&name=ann-${transport} HTTP/1\\.1$`))
      expect(bob.request.startLine).toMatch(new RegExp(`^GET /(ws|sse)\\?room=own&name=bob-${transport} HTTP/1\\.1$`))
      expect(ann.connectionId).toBe(annWelcome.connectionId)
      expect(JSON.stringify(ann)).not.toContain('bob-')
      expect(JSON.stringify(bob)).not.toContain('ann-')
      expect(ann.response!.startLine).toBe(
        transport === 'websocket' ? 'HTTP/1.1 101 Switching Protocols' : 'HTTP/1.1 200 OK',
      )
    },
  )

  it('shows an SSE client the GET that opened its stream even after it sent over POST /sse', async () => {
    const [sse, welcome] = await joined('sse', 'poster')
    await sse.send('own', 'sent by POST')
    await sse.send('own', 'and again')
    const shown = (await own(welcome)).sse!
    expect(shown.request.startLine).toBe('GET /sse?room=own&name=poster HTTP/1.1')
    expect(shown.upgrade).toBe(false)
    expect(shown.response!.startLine).toBe('HTTP/1.1 200 OK')
    expect(shown.response!.headers.map(([name, value]) => `${name.toLowerCase()}: ${value}`)).toContain(
      'content-type: text/event-stream; charset=utf-8',
    )
    // The server-wide listing, for comparison, shows the latest SSE exchange from anyone: the POST.
    expect(server.app.wire.handshakes().sse!.request.startLine).toBe('POST /sse HTTP/1.1')
  })

  it.each([
    ['short-polling', '/poll', ''],
    ['long-polling', '/long-poll', '&timeout=100'],
  ] as const)(
    'shows a %s client its join, never the polls and sends that followed on its connection',
    async (transport, path, wait) => {
      // One keep-alive connection for everything, as a browser often reuses one.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      const call = (method: string, target: string, session?: string, message?: object) =>
        new Promise<{ body: string; json: Record<string, unknown> }>((resolve, reject) => {
          const body = message === undefined ? '' : JSON.stringify(message)
          const headers: Record<string, string> = session ? { 'x-lab-session': session } : {}
          if (body) headers['content-type'] = 'application/json'
          const req = httpRequest(
            { host: '127.0.0.1', port: server.port, method, path: target, agent, headers },
            (res) => {
              let text = ''
              res.setEncoding('utf8')
              res.on('data', (chunk: string) => (text += chunk))
              res.on('end', () => resolve({ body, json: JSON.parse(text) as Record<string, unknown> }))
            },
          )
          req.on('error', reject)
          req.end(body)
        })
      try {
        const join = await call('POST', path, undefined, { type: 'join', room: 'own', name: `one-${transport}` })
        const welcome = join.json as unknown as Welcome
        for (let i = 0; i < 3; i++) await call('GET', `${path}?room=own&since=${welcome.seq}${wait}`, welcome.session)
        await call('POST', path, welcome.session, { type: 'send', room: 'own', text: 'a send after the join' })
        const shown = (await own(welcome))[transport]!
        expect(shown.connectionId).toBe(welcome.connectionId)
        expect(shown.request.startLine).toBe(`POST ${path} HTTP/1.1`)
        expect(header(shown, 'content-length')).toBe(String(Buffer.byteLength(join.body)))
        expect(shown.response!.startLine).toBe('HTTP/1.1 200 OK')

        // Joining again (another room) on the same connection opens anew: that join is shown now.
        const rejoin = await call('POST', path, welcome.session, { type: 'join', room: 'own-again' })
        expect(rejoin.json.connectionId).toBe(welcome.connectionId)
        const again = (await own(rejoin.json as unknown as Welcome))[transport]!
        expect(header(again, 'content-length')).toBe(String(Buffer.byteLength(rejoin.body)))
        expect(header(again, 'x-lab-session')).toBe('[redacted]')
      } finally {
        agent.destroy()
      }
    },
  )

  it("follows two Socket.IO clients each from its first request to its own upgrade, never the other's", async () => {
    const [ann, annWelcome] = await joined('socket.io', 'ann-sio')
    const [bob, bobWelcome] = await joined('socket.io', 'bob-sio')
    const engineOf = (client: LabClient) =>
      (client as LabClient & { socket: import('socket.io-client').Socket }).socket.io.engine
    for (const client of [ann, bob])
      await until(() => engineOf(client).transport.name === 'websocket' || undefined, 'the upgrade to WebSocket')
    const annShown = (await own(annWelcome))['socket.io']!
    const bobShown = (await own(bobWelcome))['socket.io']!
    expect(annShown.upgrade).toBe(true)
    expect(annShown.response!.startLine).toBe('HTTP/1.1 101 Switching Protocols')
    expect(annShown.request.startLine).toContain(`transport=websocket&sid=${engineOf(ann).id}`)
    expect(bobShown.request.startLine).toContain(`transport=websocket&sid=${engineOf(bob).id}`)
    // The welcome named the connection of the long-polling request that opened the session; the upgrade came on another.
    expect(annShown.connectionId).not.toBe(annWelcome.connectionId)
    expect(JSON.stringify(annShown)).not.toContain(engineOf(bob).id)
  })

  it("answers 404 with the protocol's error for an unknown connection, and for another address's", async () => {
    const unknown = await fetch(`${server.url}/api/wire/handshakes/c999999`)
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ type: 'error', code: 'LAB_ERR_NOT_FOUND' })

    const [, welcome] = await joined('websocket', 'mine')
    const other = await requestFrom(server.port, '127.0.0.2', 'GET', `/api/wire/handshakes/${welcome.connectionId}`)
    expect(other.status).toBe(404)
    expect(other.body).toMatchObject({ type: 'error', code: 'LAB_ERR_NOT_FOUND' })
    expect(JSON.stringify(other.body)).not.toContain('name=mine')
    const mine = await requestFrom(server.port, '127.0.0.1', 'GET', `/api/wire/handshakes/${welcome.connectionId}`)
    expect(mine.status).toBe(200)
  })

  it('keeps the handshakes of open connections and of the last closed ones only', async () => {
    const [, stays] = await joined('websocket', 'stays')
    const passing = async (i: number): Promise<string> => {
      const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=own&name=passer${i}`)
      const welcome = await new Promise<Welcome>((resolve) =>
        ws.once('message', (data) => resolve(JSON.parse((data as Buffer).toString()) as Welcome)),
      )
      await new Promise((resolve) => {
        ws.once('close', resolve)
        ws.close()
      })
      return welcome.connectionId!
    }
    const closedIds = await comeAndGo(passing)
    expect(server.app.wire.handshakesKept).toBeLessThanOrEqual(
      CLOSED_CONNECTIONS_KEPT + server.app.wire.connections().length,
    )
    expect((await fetch(`${server.url}/api/wire/handshakes/${closedIds[0]}`)).status).toBe(404)
    expect((await fetch(`${server.url}/api/wire/handshakes/${closedIds.at(-1)}`)).status).toBe(200)
    // A connection that is still open keeps its handshake, however many came and went after it.
    expect((await own(stays)).websocket!.request.startLine).toContain('name=stays')
  }, 60_000)

  it('lets the handshake of an upgraded Socket.IO stream go among the closed ones once its WebSocket closes', async () => {
    // Such a stream is named by the connection of its first long poll and follows the WebSocket it moved to.
    const passing = async (i: number): Promise<string> => {
      const client = createClient('socket.io', server.url, `upgrader${i}`)
      const welcome = await client.join('own')
      const engine = (client as LabClient & { socket: import('socket.io-client').Socket }).socket.io.engine
      const shown = await until(async () => {
        const handshake = (await own(welcome))['socket.io']!
        return handshake.upgrade && engine.transport.name === 'websocket' ? handshake : undefined
      }, 'the server to follow the upgrade')
      await client.close()
      return shown.connectionId
    }
    await comeAndGo(passing)
    expect(server.app.wire.handshakesKept).toBeLessThanOrEqual(
      CLOSED_CONNECTIONS_KEPT + server.app.wire.connections().length,
    )
  }, 60_000)
})

const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address

describe('GET /api/wire/handshakes', () => {
  it("lists every client's latest handshake to the server's own machine", async () => {
    const res = await requestFrom(server.port, '127.0.0.1', 'GET', '/api/wire/handshakes')
    expect(res.status).toBe(200)
    expect(Object.keys(res.body as object)).toContain('websocket')
  })

  it.skipIf(!outside)('refuses that list, with 403 and the way to ask for your own, to any other address', async () => {
    const res = await requestFrom(server.port, outside!, 'GET', '/api/wire/handshakes')
    expect(res.status).toBe(403)
    expect(res.body).toMatchObject({ type: 'error', code: 'LAB_ERR_FORBIDDEN' })
    expect((res.body as { message: string }).message).toContain('/api/wire/handshakes/CONNECTION_ID')
  })
})
