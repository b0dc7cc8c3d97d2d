// One slow-consumer policy on every push transport: a client that stops
// reading while its room is busy is out of the room as soon as its unsent
// bytes pass SEND_BUFFER_BYTES, is told why in its transport's idiom, and
// nobody else notices. The memory this bounds is measured by `npm run bench`.
import { get, type IncomingMessage } from 'node:http'
import type { Socket as TcpSocket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { createClient, messagesIn, waitForText } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
const TEXT = 'x'.repeat(16_000)
beforeAll(async () => {
  // A small send buffer and big messages, so a few megabytes fill what the kernel holds and then the
  // buffer; still several messages deep, so that a bystander reading along is never taken for slow.
  server = await startServer({
    sendBufferBytes: 256 * 1024,
    messageRate: 0,
    textMaxBytes: 20_000,
    wsHeartbeatMs: 600_000,
    sseHeartbeatMs: 600_000,
  })
})
afterAll(async () => {
  await server.close()
})

const inRoom = (room: string, name: string) => server.app.hub.presence(room).some((m) => m.name === name)

/** Floods `room` until `stalled` has left it, the way a busy class would; returns how many messages it took. */
async function floodUntilGone(room: string, stalled: string): Promise<number> {
  const sender = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=${room}&name=flooder`)
  await new Promise((resolve) => sender.once('message', resolve))
  let sent = 0
  while (inRoom(room, stalled)) {
    if (sent >= 2000) throw new Error(`${stalled} was still in ${room} after ${sent} messages`)
    sender.send(JSON.stringify({ type: 'send', room, text: `${sent} ${TEXT}` }))
    sent++
    // Let the server take the frames in as they come rather than all at the end.
    if (sent % 20 === 0)
      await until(
        () => server.app.hub.roomSummaries().find((r) => r.room === room)!.seq >= sent || undefined,
        'the flood to land',
        20_000,
      )
  }
  sender.close()
  return sent
}

async function bystanderGotEverything(
  room: string,
  count: number,
  bystander: ReturnType<typeof createClient>,
): Promise<void> {
  await until(
    () => messagesIn(bystander, room).length >= count || undefined,
    `the bystander to get all ${count}`,
    20_000,
  )
  const seqs = messagesIn(bystander, room).map((m) => m.seq)
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
  await createClient('short-polling', server.url, 'after').send(room, 'life goes on')
  await waitForText(bystander, room, 'life goes on')
  await bystander.close()
}

describe('a client that stops reading', () => {
  it('on SSE: leaves its room, and its stream ends with a "bye" event naming LAB_ERR_SLOW_CONSUMER', async () => {
    const bystander = createClient('sse', server.url, 'sse-bystander')
    await bystander.join('slow-sse')
    let response!: IncomingMessage
    let text = ''
    await new Promise<void>((resolve) => {
      get(`${server.url}/sse?room=slow-sse&name=sleeper`, (res) => {
        response = res
        res.once('data', (chunk) => {
          text += chunk
          res.pause()
          resolve()
        })
      })
    })
    const sent = await floodUntilGone('slow-sse', 'sleeper')
    const ended = new Promise<void>((resolve) => response.once('end', resolve))
    response.on('data', (chunk) => {
      text += chunk
    })
    response.resume()
    await ended
    expect(text.slice(text.lastIndexOf('event: '))).toMatch(/^event: bye\ndata: \{"code":"LAB_ERR_SLOW_CONSUMER"/)
    await bystanderGotEverything('slow-sse', sent, bystander)
  })

  it('on the WebSocket: leaves its room, then closes with 1013 and LAB_ERR_SLOW_CONSUMER', async () => {
    const bystander = createClient('websocket', server.url, 'ws-bystander')
    await bystander.join('slow-ws')
    const sleeper = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=slow-ws&name=sleeper`)
    await new Promise((resolve) => sleeper.once('message', resolve))
    const tcp = (sleeper as unknown as { _socket: TcpSocket })._socket
    tcp.pause()
    const sent = await floodUntilGone('slow-ws', 'sleeper')
    const errors: string[] = []
    sleeper.on('message', (m) => {
      const message = JSON.parse((m as Buffer).toString()) as { type: string; code?: string }
      if (message.type === 'error') errors.push(message.code!)
    })
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      sleeper.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    )
    tcp.resume()
    expect(await closed).toEqual({ code: 1013, reason: 'LAB_ERR_SLOW_CONSUMER' })
    expect(errors).toEqual(['LAB_ERR_SLOW_CONSUMER'])
    await bystanderGotEverything('slow-ws', sent, bystander)
  })

  it('on Socket.IO over WebSocket: leaves its room, then gets an error event and "io server disconnect"', async () => {
    const bystander = createClient('socket.io', server.url, 'sio-bystander')
    await bystander.join('slow-sio')
    const sleeper = io(server.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      auth: { protocol: 'lab', room: 'slow-sio', name: 'sleeper' },
    })
    await new Promise((resolve) => sleeper.once('welcome', resolve))
    const tcp = (sleeper.io.engine.transport as unknown as { ws: { _socket: TcpSocket } }).ws._socket
    tcp.pause()
    const sent = await floodUntilGone('slow-sio', 'sleeper')
    const error = new Promise<{ code: string }>((resolve) => sleeper.once('error', resolve))
    const gone = new Promise<string>((resolve) => sleeper.once('disconnect', resolve))
    tcp.resume()
    expect(await error).toMatchObject({ code: 'LAB_ERR_SLOW_CONSUMER' })
    expect(await gone).toBe('io server disconnect')
    await bystanderGotEverything('slow-sio', sent, bystander)
  })

  it('on Socket.IO over HTTP long polling: leaves its room when it stops asking for its packets', async () => {
    const bystander = createClient('socket.io', server.url, 'polling-bystander')
    await bystander.join('slow-eio')
    // Engine.IO's polling by hand: open a session, connect the namespace, read once, then never again.
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`
    const open = await (await fetch(base)).text()
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid
    const auth = JSON.stringify({ protocol: 'lab', room: 'slow-eio', name: 'sleeper' })
    await fetch(`${base}&sid=${sid}`, { method: 'POST', body: `40${auth}` })
    await until(() => inRoom('slow-eio', 'sleeper') || undefined, 'the poller to join')
    const sent = await floodUntilGone('slow-eio', 'sleeper')
    await bystanderGotEverything('slow-eio', sent, bystander)
  })
})
