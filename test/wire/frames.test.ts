// Each page sees its own WebSocket frames as the server read them off the
// wire: GET /api/wire/frames/:connectionId lists the headers of the last
// frames each way (FIN, RSV1, opcode, mask, payload length, the header's
// bytes, a close's code and reason) for the connection a welcome named, to
// the address that opened it and nobody else, and keeps them a while after
// the close.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import type { Welcome } from '../../server/core/protocol.ts'
import type { ConnectionFrames, FrameHeader } from '../../server/wire/types.ts'
import { FRAMES_KEPT } from '../../server/wire/ws-frames.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { requestFrom } from '../support/from-address.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
beforeAll(async () => {
  server = await startServer({ maxClientsPerAddress: 0, messageRate: 1000, messageBurst: 1000 })
})
afterAll(async () => {
  await server.close()
})

async function framesOf(connectionId: string): Promise<ConnectionFrames> {
  const res = await fetch(`${server.url}/api/wire/frames/${connectionId}`)
  expect(res.status).toBe(200)
  return (await res.json()) as ConnectionFrames
}

/** A raw WebSocket in a room, and the texts it received, its welcome first. */
async function openWs(query: string): Promise<{ ws: WebSocket; welcome: Welcome; received: string[] }> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?${query}`)
  const received: string[] = []
  ws.on('message', (data: Buffer) => received.push(data.toString()))
  const welcome = await until(
    () => received.map((text) => JSON.parse(text) as Welcome).find((m) => m.type === 'welcome'),
    'the welcome',
  )
  return { ws, welcome, received }
}

const find = (frames: FrameHeader[], dir: FrameHeader['dir'], kind: FrameHeader['kind']) =>
  frames.filter((f) => f.dir === dir && f.kind === kind)

describe('GET /api/wire/frames/:connectionId', () => {
  it('shows a text frame each way with FIN, opcode, mask and length, a ping and its pong, and the close with its code', async () => {
    const { ws, welcome, received } = await openWs('room=frames&name=ann&compress=0')
    const sent = JSON.stringify({ type: 'send', room: 'frames', text: 'hello frames' })
    ws.send(sent)
    await until(() => received.some((text) => text.includes('hello frames')), 'the message back')
    ws.ping(Buffer.from('are you there'))
    await new Promise((resolve) => ws.once('pong', resolve))
    ws.close(4000, 'done here')
    await new Promise((resolve) => ws.once('close', resolve))

    const view = await until(async () => {
      const read = await framesOf(welcome.connectionId!)
      return !read.open && find(read.frames, 'out', 'close').length > 0 && read
    }, 'the closed connection and the server close frame')
    const welcomeFrame = view.frames.find((f) => f.dir === 'out')!
    expect(welcomeFrame).toMatchObject({
      kind: 'text',
      opcode: 1,
      fin: true,
      rsv1: false,
      masked: false,
      length: Buffer.byteLength(received[0]!),
    })
    expect(welcomeFrame.header.startsWith('81 ')).toBe(true)

    const [textIn] = find(view.frames, 'in', 'text')
    expect(textIn).toMatchObject({ fin: true, opcode: 1, masked: true, length: Buffer.byteLength(sent) })
    // 2 bytes, 2 more for a length of 126 to 65535, and the 4-byte mask key.
    expect(textIn!.header.split(' ')).toHaveLength(sent.length < 126 ? 6 : 8)

    const [ping] = find(view.frames, 'in', 'ping')
    const [pong] = find(view.frames, 'out', 'pong')
    expect(ping).toMatchObject({ opcode: 9, masked: true, length: 'are you there'.length })
    expect(pong).toMatchObject({ opcode: 10, masked: false, length: 'are you there'.length })
    expect(pong!.n).toBeGreaterThan(ping!.n)

    expect(find(view.frames, 'in', 'close')[0]).toMatchObject({
      opcode: 8,
      masked: true,
      close: { code: 4000, reason: 'done here' },
    })
    expect(find(view.frames, 'out', 'close')[0]).toMatchObject({ opcode: 8, masked: false, close: { code: 4000 } })
    expect(view.seen.in).toBe(find(view.frames, 'in', 'text').length + 2)
  })

  it('shows the close 1003 a binary frame gets', async () => {
    const { ws, welcome } = await openWs('room=frames&name=bin&compress=0')
    ws.send(Buffer.from([0xca, 0xfe]))
    await new Promise((resolve) => ws.once('close', resolve))
    const view = await until(async () => {
      const read = await framesOf(welcome.connectionId!)
      return find(read.frames, 'out', 'close').length > 0 && read
    }, 'the server close frame')
    expect(find(view.frames, 'in', 'binary')[0]).toMatchObject({ opcode: 2, length: 2, masked: true })
    expect(find(view.frames, 'out', 'close')[0]!.close).toEqual({ code: 1003, reason: 'LAB_ERR_UNSUPPORTED' })
  })

  it('marks a compressed frame with RSV1 and keeps only the last frames each way', async () => {
    const { ws, welcome, received } = await openWs('room=frames-many&name=zip&compress=1')
    for (let i = 0; i < FRAMES_KEPT + 5; i++)
      ws.send(JSON.stringify({ type: 'send', room: 'frames-many', text: `n${i}` }))
    await until(() => received.some((text) => text.includes(`"n${FRAMES_KEPT + 4}"`)), 'the last message back')
    const view = await framesOf(welcome.connectionId!)
    expect(view.open).toBe(true)
    expect(view.seen.in).toBe(FRAMES_KEPT + 5)
    expect(find(view.frames, 'in', 'text')).toHaveLength(FRAMES_KEPT)
    expect(find(view.frames, 'in', 'text').every((f) => f.rsv1)).toBe(true)
    ws.close()
  })

  it("follows Socket.IO to its WebSocket and names each packet's type", async () => {
    const socket = io(server.url, { auth: { protocol: 'lab', name: 'sio', room: 'frames' }, forceNew: true })
    const welcome = await new Promise<Welcome>((resolve) => socket.once('welcome', resolve))
    await until(() => socket.io.engine.transport.name === 'websocket', 'the upgrade')
    await socket.emitWithAck('send', { room: 'frames', text: 'over the upgrade' })
    const view = await until(async () => {
      const read = await framesOf(welcome.connectionId!)
      return read.frames.some((f) => f.dir === 'in' && f.lead === '42') && read
    }, 'the event frame')
    // The upgrade's probe (2probe, 3probe), then the event (42) and its ack (43).
    expect(view.frames.filter((f) => f.dir === 'in').map((f) => f.lead)).toEqual(
      expect.arrayContaining(['2p', '5', '42']),
    )
    expect(view.frames.some((f) => f.dir === 'out' && f.lead === '43')).toBe(true)
    socket.close()
  })

  it('answers 404 for an unknown id and for another address', async () => {
    const { ws, welcome } = await openWs('room=frames&name=own&compress=0')
    expect((await fetch(`${server.url}/api/wire/frames/c999999`)).status).toBe(404)
    const other = await requestFrom(server.port, '127.0.0.2', 'GET', `/api/wire/frames/${welcome.connectionId}`)
    expect(other.status).toBe(404)
    expect(other.body).toMatchObject({ code: 'LAB_ERR_NOT_FOUND' })
    expect(
      (await requestFrom(server.port, '127.0.0.1', 'GET', `/api/wire/frames/${welcome.connectionId}`)).status,
    ).toBe(200)
    ws.close()
  })
})
