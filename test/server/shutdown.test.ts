// SIGTERM with a client on every transport: each is told in its own idiom and
// the process exits promptly.
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import type { Batch } from '../../server/core/protocol.ts'
import { startServerProcess } from '../support/process.ts'
import { until } from '../support/wait.ts'

type Held = Record<string, { requestsHeld: number } | undefined>

describe('graceful shutdown', () => {
  it('answers held long polls, ends SSE streams, closes WebSockets with 1001, disconnects Socket.IO, then exits', async () => {
    const server = await startServerProcess({ LONG_POLL_TIMEOUT_MS: '60000' })

    // A room nobody else uses, polled from its head: nothing but the shutdown can answer this poll.
    const quiet = 'shutdown-quiet'
    const head = (await (await fetch(`${server.url}/poll?room=${quiet}`)).json()) as Batch
    let longPollAnswered = false
    const longPoll = fetch(
      `${server.url}/long-poll?room=${quiet}&since=${head.seq}&epoch=${head.epoch}&timeout=60000`,
    ).then(async (r) => {
      longPollAnswered = true
      return { status: r.status, body: (await r.json()) as Batch }
    })

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
    // Signalled mid-upgrade, a Socket.IO client loses the disconnect packet with its polling transport.
    await until(() => sio.io.engine.transport.name === 'websocket', 'Socket.IO to upgrade to WebSocket')

    const held = async (): Promise<Held> =>
      ((await (await fetch(`${server.url}/api/wire`)).json()) as { transports: Held }).transports
    const deadline = Date.now() + 5000
    let state = await held()
    while (!(state['long-polling']?.requestsHeld === 1 && state.sse?.requestsHeld === 1) && Date.now() < deadline)
      state = await held()
    expect(state['long-polling']?.requestsHeld, 'the long poll is held before the signal').toBe(1)
    expect(state.sse?.requestsHeld, 'the SSE stream is held before the signal').toBe(1)
    expect(longPollAnswered).toBe(false)

    server.child.kill('SIGTERM')

    expect(await longPoll).toMatchObject({
      status: 200,
      body: { type: 'batch', room: quiet, epoch: head.epoch, seq: head.seq, recovered: true, entries: [] },
    })
    expect(await sseEnded).toContain('event: welcome')
    expect(await wsClosed).toBe(1001)
    expect(await sioGone).toBe('io server disconnect')
    // 0, not the 1 of the grace timer (SHUTDOWN_GRACE_MS, 2 s): everything closed before it fired.
    const exit = await server.exited
    expect(exit.code, server.output()).toBe(0)
  })
})
