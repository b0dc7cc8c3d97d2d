// SIGTERM with a client on every transport: each is told in its own idiom and
// the process exits promptly.
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { startServerProcess } from '../support/process.ts'

describe('graceful shutdown', () => {
  it('answers held long polls, ends SSE streams, closes WebSockets with 1001, disconnects Socket.IO, then exits', async () => {
    const server = await startServerProcess({ LONG_POLL_TIMEOUT_MS: '60000' })

    const longPoll = fetch(`${server.url}/long-poll?room=lobby&since=0&timeout=60000`).then(async (r) => ({ status: r.status, body: await r.json() }))

    const sse = await fetch(`${server.url}/sse?room=lobby&name=streamer`)
    const sseEnded = (async () => {
      const reader = sse.body!.getReader()
      let text = ''
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return text
        text += new TextDecoder().decode(value)
      }
    })()

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?name=sock`)
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    await new Promise((resolve) => ws.once('message', resolve))

    const sio = io(server.url, { forceNew: true, reconnection: false, auth: { protocol: 'lab', name: 'sio' } })
    const sioGone = new Promise<string>((resolve) => sio.once('disconnect', (reason) => resolve(reason)))
    await new Promise((resolve) => sio.once('welcome', resolve))

    const held = async () => ((await (await fetch(`${server.url}/api/wire`)).json()) as { transports: Record<string, { requestsHeld: number }> }).transports
    for (let i = 0; i < 200; i++) {
      const t = await held()
      if (t['long-polling']?.requestsHeld === 1 && t.sse?.requestsHeld === 1) break
      await new Promise((r) => setTimeout(r, 10))
    }

    server.child.kill('SIGTERM')

    expect(await longPoll).toMatchObject({ status: 200, body: { type: 'batch', room: 'lobby' } })
    expect(await sseEnded).toContain('event: welcome')
    expect(await wsClosed).toBe(1001)
    expect(await sioGone).toBe('io server disconnect')
    // 0, not the 1 of the grace timer (SHUTDOWN_GRACE_MS, 2 s): everything closed before it fired.
    const exit = await server.exited
    expect(exit.code, server.output()).toBe(0)
  })
})
