// Socket.IO and @fastify/websocket both want the server's upgrades; the edge
// gives each path one owner. Proven with both real clients at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io, type Socket } from 'socket.io-client'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

describe('the edge', () => {
  it('serves Socket.IO over WebSocket and raw WebSockets at the same time', async () => {
    const wsUrl = `${server.url.replace('http', 'ws')}/ws?room=both`
    const raw = Array.from({ length: 5 }, () => new WebSocket(wsUrl))
    const sio: Socket[] = Array.from({ length: 5 }, (_, i) =>
      io(server.url, {
        forceNew: true,
        transports: ['websocket'],
        auth: { protocol: 'lab', room: 'both', name: `s${i}` },
      }),
    )
    const rawHeard = raw.map(() => [] as string[])
    raw.forEach((ws, i) => ws.on('message', (data) => rawHeard[i]!.push((data as Buffer).toString())))
    const sioHeard = sio.map(() => [] as string[])
    sio.forEach((s, i) => s.on('message', (m: { text: string }) => sioHeard[i]!.push(m.text)))
    await until(() => server.app.hub.presence('both').length === 10 || undefined, 'ten members')

    raw[0]!.send(JSON.stringify({ type: 'send', room: 'both', text: 'from raw' }))
    sio[0]!.emit('send', { room: 'both', text: 'from sio' })
    await until(
      () => sioHeard.every((h) => h.includes('from raw') && h.includes('from sio')) || undefined,
      'Socket.IO clients to hear both',
    )
    await until(
      () =>
        rawHeard.every((h) => h.some((m) => m.includes('from raw')) && h.some((m) => m.includes('from sio'))) ||
        undefined,
      'raw clients to hear both',
    )
    for (const s of sio) expect(s.io.engine.transport.name).toBe('websocket')
    raw.forEach((ws) => ws.close())
    sio.forEach((s) => s.disconnect())
  })

  it('refuses an upgrade to a path nobody owns without disturbing the others', async () => {
    const stray = new WebSocket(`${server.url.replace('http', 'ws')}/nowhere`)
    const status = await new Promise<number>((resolve) => {
      stray.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      stray.once('error', () => resolve(-1))
    })
    expect(status).toBe(404)
    const ok = new WebSocket(`${server.url.replace('http', 'ws')}/ws`)
    await new Promise((resolve) => ok.once('message', resolve))
    ok.close()
  })
})
