// A peer that stops answering leaves presence and the connection counters
// on every transport: the WebSocket and Socket.IO by their pings, SSE by its
// stream renewal, polling by its session lease. How long each takes with the
// default settings is measured by `npm run bench` (the dead-peers scenario).
import { Agent, get, type IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EventSource } from 'eventsource'
import WebSocket from 'ws'
import type { LogEntry, Welcome } from '../../server/core/protocol.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer({
    wsHeartbeatMs: 100,
    sioPingIntervalMs: 100,
    sioPingTimeoutMs: 100,
    sseStreamMaxMs: 1000,
    sseHeartbeatMs: 200,
    httpSessionTtlMs: 1000,
  })
})
afterAll(async () => {
  await server.close()
})

const inRoom = (room: string) => server.app.hub.presence(room).map((m) => m.name)
const open = (transport: string) => server.app.wire.snapshot().transports[transport]?.connectionsOpen ?? 0

describe('a peer that stops answering', () => {
  it('on the WebSocket: is dropped when it misses a ping, and leaves the room', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=dead-ws&name=zombie`, { autoPong: false })
    await new Promise((resolve) => ws.once('message', resolve))
    expect(inRoom('dead-ws')).toEqual(['zombie'])
    const closed = new Promise<number>((resolve) => ws.once('close', resolve))
    await until(() => inRoom('dead-ws').length === 0 || undefined, 'the zombie to leave')
    expect(await closed).toBe(1006)
    await until(() => open('websocket') === 0 || undefined, 'the connection to close')
  })

  it('on Socket.IO: is disconnected when it misses a ping, and leaves the room', async () => {
    // Engine.IO by hand over a WebSocket, so that nothing answers the server's pings.
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
    const packets: string[] = []
    ws.on('message', (data) => packets.push((data as Buffer).toString()))
    await new Promise((resolve) => ws.once('open', resolve))
    ws.send(`40${JSON.stringify({ protocol: 'lab', room: 'dead-sio', name: 'zombie' })}`)
    await until(() => inRoom('dead-sio').includes('zombie') || undefined, 'the zombie to join')
    await until(() => packets.includes('2') || undefined, 'a ping')
    await until(() => inRoom('dead-sio').length === 0 || undefined, 'the zombie to leave')
    await until(() => ws.readyState === WebSocket.CLOSED || undefined, 'the server to close it')
  })

  it('on SSE: leaves when it does not reopen its renewed stream, while a live EventSource stays the same member', async () => {
    const live = new EventSource(`${server.url}/sse?room=dead-sse&name=alive`)
    const welcomes: Welcome[] = []
    const notices: LogEntry[] = []
    live.addEventListener('welcome', (e) => welcomes.push(JSON.parse(e.data as string) as Welcome))
    live.addEventListener('notice', (e) => notices.push(JSON.parse(e.data as string) as LogEntry))
    await until(() => welcomes.length === 1 || undefined, 'the live reader')
    let stopped!: IncomingMessage
    await new Promise<void>((resolve) =>
      get(`${server.url}/sse?room=dead-sse&name=stopped`, (res) => {
        stopped = res
        res.once('data', () => resolve())
      }),
    )
    // The stopped reader never reads again and never reconnects, like a process under SIGSTOP.
    stopped.pause()
    expect(inRoom('dead-sse').sort()).toEqual(['alive', 'stopped'])
    await until(() => welcomes.length >= 2 || undefined, 'a renewal of the live stream')
    await until(() => !inRoom('dead-sse').includes('stopped') || undefined, 'the stopped reader to leave', 15_000)
    expect(inRoom('dead-sse')).toEqual(['alive'])
    expect(welcomes.every((w) => w.clientId === welcomes[0]!.clientId)).toBe(true)
    expect(welcomes.slice(1).every((w) => w.recovered)).toBe(true)
    // Its renewals' welcomes leave out the member list: it never left, and the backlog has what changed.
    expect(welcomes.slice(1).map((w) => w.members)).toEqual(welcomes.slice(1).map(() => []))
    expect(notices.filter((n) => n.type === 'notice' && n.who.name === 'alive')).toEqual([])
    live.close()
    stopped.destroy()
  })

  it('on polling: leaves when its session stops polling', async () => {
    const res = await fetch(`${server.url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'join', room: 'dead-poll', name: 'zombie' }),
    })
    expect(res.status).toBe(200)
    expect(inRoom('dead-poll')).toEqual(['zombie'])
    await until(() => inRoom('dead-poll').length === 0 || undefined, 'the session to lapse')
  })
})

describe('a quiet SSE stream', () => {
  it('gets a comment every SSE_HEARTBEAT_MS, each open stream its own, and still after another stream closes', async () => {
    const read = (name: string) => {
      const seen = { text: '' }
      const request = get(`${server.url}/sse?room=quiet-sse&name=${name}`, (res) =>
        res.on('data', (chunk: Buffer) => (seen.text += chunk.toString())),
      )
      return { seen, close: () => request.destroy() }
    }
    const pings = (text: string) => text.split('\n\n').filter((event) => event === ': ping').length
    const first = read('first')
    const second = read('second')
    await until(() => (pings(first.seen.text) >= 1 && pings(second.seen.text) >= 1) || undefined, 'a comment on each')
    first.close()
    await until(() => inRoom('quiet-sse').length === 1 || undefined, 'the first reader to leave')
    const before = pings(second.seen.text)
    await until(() => pings(second.seen.text) > before || undefined, 'another comment on the stream left open')
    expect(second.seen.text).toContain('event: welcome')
    second.close()
  })
})

describe('a renewed SSE stream', () => {
  it('of two alike (one address, room and name, one last event) is each carried on as its own member', async () => {
    // Both wait for the other's goodbye before reconnecting, so that both places are left at once under one key.
    const stream = (lastEventId?: string) => {
      const seen = { text: '', ended: false, close: () => request.destroy() }
      const request = get(
        `${server.url}/sse?room=alike-sse&name=twin`,
        { headers: lastEventId ? { 'last-event-id': lastEventId } : {} },
        (res) => {
          res.on('data', (chunk: Buffer) => (seen.text += chunk.toString()))
          res.once('end', () => (seen.ended = true))
        },
      )
      return seen
    }
    const events = (text: string) => text.split('\n\n').filter((event) => event.length > 0)
    const clientIdOf = (text: string) => {
      const welcome = events(text).find((event) => event.includes('event: welcome'))
      return welcome && (JSON.parse(welcome.slice(welcome.indexOf('data: ') + 6)) as Welcome).clientId
    }
    const lastIdOf = (text: string) =>
      events(text)
        .flatMap((event) => /^id: (.*)$/m.exec(event)?.[1] ?? [])
        .at(-1)
    const first = stream()
    await until(() => clientIdOf(first.text), 'the first welcome')
    const second = stream()
    await until(() => clientIdOf(second.text), 'the second welcome')
    await until(() => (first.ended && second.ended) || undefined, 'both streams renewed')
    expect(lastIdOf(first.text)).toBe(lastIdOf(second.text))
    const members = [clientIdOf(first.text), clientIdOf(second.text)].sort()
    const again = [stream(lastIdOf(first.text)), stream(lastIdOf(second.text))]
    await until(() => again.every((seen) => clientIdOf(seen.text)) || undefined, 'both welcomes again')
    expect(again.map((seen) => clientIdOf(seen.text)).sort()).toEqual(members)
    expect(
      server.app.hub
        .presence('alike-sse')
        .map((m) => m.clientId)
        .sort(),
    ).toEqual(members)
  })

  it("reopened on the same connection, keeps neither its request's headers nor the keep-alive timer Node stopped", async () => {
    // What the server's requests are, seen beside Fastify; one socket for both requests.
    const requests: IncomingMessage[] = []
    const seeRequest = (req: IncomingMessage) => requests.push(req)
    server.app.server.on('request', seeRequest)
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    try {
      const open = (headers: Record<string, string>) => {
        const seen = { text: '', ended: false }
        get(`${server.url}/sse?room=kept-sse&name=lean`, { agent, headers }, (res) => {
          res.on('data', (chunk: Buffer) => (seen.text += chunk.toString()))
          res.once('end', () => (seen.ended = true))
        })
        return seen
      }
      const first = open({})
      await until(() => first.ended || undefined, 'the stream renewed')
      const lastId = [...first.text.matchAll(/^id: (.*)$/gm)].at(-1)![1]!
      const second = open({ 'last-event-id': lastId })
      await until(() => second.text.includes('event: welcome') || undefined, 'the welcome again')
      const [opening, reopening] = requests.filter((req) => req.url?.startsWith('/sse?room=kept-sse'))
      expect(reopening!.socket).toBe(opening!.socket)
      expect(reopening!.headers).toEqual({})
      expect(reopening!.rawHeaders).toEqual([])
      // net.Socket keeps its timer under a symbol of its own; setTimeout(0) stops it but keeps it there.
      const socket = reopening!.socket as unknown as Record<symbol, unknown>
      const timer = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'timeout')!
      expect(socket[timer]).toBeNull()
    } finally {
      server.app.server.off('request', seeRequest)
      agent.destroy()
    }
  })
})
