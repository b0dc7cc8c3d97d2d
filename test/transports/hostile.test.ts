// Hostile input against the server as its own process, the way `npm start`
// runs it: RFC 6455 violations, malformed Engine.IO and Socket.IO packets,
// request smuggling shapes, deep JSON, other media types, names that spoof.
// After each: the expected code, the process still up, another client still
// chatting, and the history of the room the input aimed at unchanged.
// (Floods, slow readers and dead peers have their own suites: limits,
// slow-consumers, dead-peers.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import type { Batch } from '../../server/core/protocol.ts'
import { createClient, waitForText, type LabClient } from '../support/clients.ts'
import { startServerProcess, type ServerProcess } from '../support/process.ts'
import { clientFrame, closeCode, rawHttp, rawWebSocket } from '../support/raw.ts'
import { until } from '../support/wait.ts'

const ROOM = 'target'
let server: ServerProcess
let port: number
let chatter: LabClient
let history: Batch
let checks = 0

const json = { 'content-type': 'application/json' }
const deep = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

const messages = (batch: Batch) => batch.entries.filter((e) => e.type === 'message')

async function readHistory(): Promise<Batch> {
  return (await (await fetch(`${server.url}/poll?room=${ROOM}&since=0&epoch=${history?.epoch ?? ''}`)).json()) as Batch
}

beforeAll(async () => {
  server = await startServerProcess({
    MESSAGE_RATE: '1000',
    MESSAGE_BURST: '1000',
    MAX_CLIENTS_PER_ADDRESS: '200',
    LOG_LEVEL: 'fatal',
  })
  port = Number(new URL(server.url).port)
  for (const text of ['one', 'two', 'three']) {
    await fetch(`${server.url}/poll`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'send', room: ROOM, text }),
    })
  }
  history = (await (await fetch(`${server.url}/poll?room=${ROOM}&since=0`)).json()) as Batch
  chatter = createClient('websocket', server.url, 'chatter')
  await chatter.join('chat')
}, 30_000)

afterEach(async () => {
  expect(server.child.exitCode, server.output()).toBeNull()
  const text = `still chatting ${++checks}`
  await fetch(`${server.url}/long-poll`, {
    method: 'POST',
    headers: json,
    body: JSON.stringify({ type: 'send', room: 'chat', text }),
  })
  await waitForText(chatter, 'chat', text)
  // Hostile clients may join the room (their notices are presence); its messages must be exactly as they were.
  const now = await readHistory()
  expect(now).toMatchObject({ epoch: history.epoch, recovered: true })
  expect(messages(now)).toEqual(messages(history))
})

afterAll(async () => {
  await chatter?.close()
  server?.child.kill('SIGTERM')
  await server?.exited
})

describe('RFC 6455 violations on /ws', () => {
  const violations: Array<[string, (room: string) => Buffer, number]> = [
    [
      'an unmasked client frame',
      () => clientFrame(0x81, JSON.stringify({ type: 'send', room: ROOM, text: 'x' }), { mask: false }),
      1002,
    ],
    ['a reserved opcode', () => clientFrame(0x83, 'x'), 1002],
    [
      'RSV1 without an extension that defines it',
      () => clientFrame(0xc1, JSON.stringify({ type: 'send', room: ROOM, text: 'x' })),
      1002,
    ],
    ['a fragmented ping', () => clientFrame(0x09, 'ping'), 1002],
    ['a ping over 125 bytes', () => clientFrame(0x89, 'p'.repeat(126)), 1002],
    ['a continuation frame with nothing to continue', () => clientFrame(0x80, 'x'), 1002],
    ['a close frame with a code no one may send', () => clientFrame(0x88, Buffer.from([0x03, 0xed])), 1002],
    ['text that is not UTF-8', () => clientFrame(0x81, Buffer.from([0xc3, 0x28])), 1007],
    ['a frame that declares 2^62 bytes', () => clientFrame(0x81, 'x', { declaredLength: 1n << 62n }), 1009],
  ]
  it.each(violations)('%s: closed with %s', async (_label, frame, code) => {
    const ws = await rawWebSocket(port, `/ws?room=${ROOM}&name=raw`)
    ws.socket.write(frame(ROOM))
    await until(() => closeCode(ws.frames()) ?? (ws.closed() || undefined), 'a close frame')
    expect(closeCode(ws.frames())).toBe(code)
    ws.socket.destroy()
  })
})

/** Engine.IO and Socket.IO by hand over a WebSocket, joined to the target room. */
async function engineSession(): Promise<{ ws: WebSocket; got: string[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`)
  const got: string[] = []
  ws.on('message', (data) => got.push((data as Buffer).toString()))
  ws.on('error', () => {})
  await new Promise((resolve) => ws.once('open', resolve))
  ws.send(`40${JSON.stringify({ protocol: 'lab', room: ROOM })}`)
  await until(() => got.some((p) => p.startsWith('42["welcome"')) || undefined, 'the welcome')
  return { ws, got }
}

describe('malformed Engine.IO and Socket.IO packets', () => {
  const packets = [
    ['an Engine.IO type that does not exist', '9'],
    ['a message with no Socket.IO packet', '4'],
    ['a Socket.IO type that does not exist', '49'],
    ['an event that is not JSON', '42["send",{'],
    ['an event that is not an array', '42{"type":"send"}'],
    ['an event whose name is not a string', '42[42,{"room":"target","text":"x"}]'],
    ['a binary event whose attachments never come', '451-["send",{"_placeholder":true,"num":0}]'],
    ['an attachment count far too big', '4599999999999-["send",{"_placeholder":true,"num":0}]'],
    ['a namespace that does not exist', '40/nowhere,'],
    ['an event with deep JSON', `42["send",{"room":"target","text":${deep(3000)}}]`],
  ]
  it.each(packets)('%s: refused, or the session ends; the server goes on', async (_label, packet) => {
    const { ws, got } = await engineSession()
    ws.send(packet)
    // Then a good event asking for an ack: it is answered (the bad packet was refused or ignored) or the session is closed.
    ws.send(`429["send",{"room":"chat","text":"after a bad packet"}]`)
    await until(
      () => got.some((p) => p.startsWith('439[')) || ws.readyState === WebSocket.CLOSED || undefined,
      'an ack or a close',
    )
    ws.terminate()
  })

  it('garbage in an Engine.IO polling POST ends that session only', async () => {
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`
    const sid = (JSON.parse((await (await fetch(base)).text()).slice(1)) as { sid: string }).sid
    const res = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '\u001e\u001e4' + deep(2000) })
    expect(res.status).toBeLessThan(500)
    const next = await fetch(`${base}&sid=${sid}`)
    expect(next.status).toBe(400)
  })
})

describe('request smuggling shapes', () => {
  const body = JSON.stringify({ type: 'send', room: ROOM, text: 'smuggled' })
  const shapes: Array<[string, string]> = [
    [
      'Content-Length and Transfer-Encoding together',
      'POST /poll HTTP/1.1\r\nHost: lab\r\nContent-Type: application/json\r\n' +
        'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
    ],
    [
      'two different Content-Lengths',
      `POST /poll HTTP/1.1\r\nHost: lab\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: 4\r\n\r\n${body}`,
    ],
    [
      'a chunk size that is not hex',
      `POST /poll HTTP/1.1\r\nHost: lab\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`,
    ],
    [
      'a space before the colon of Transfer-Encoding',
      `POST /poll HTTP/1.1\r\nHost: lab\r\nContent-Type: application/json\r\nTransfer-Encoding : chunked\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ],
    [
      'Transfer-Encoding that does not end in chunked',
      `POST /poll HTTP/1.1\r\nHost: lab\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n${body}`,
    ],
    [
      'a header folded onto the next line',
      `POST /poll HTTP/1.1\r\nHost: lab\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nX-Folded: a\r\n b\r\n\r\n${body}`,
    ],
    [
      'a request line ending in a bare LF',
      `POST /poll HTTP/1.1\nHost: lab\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    ],
  ]
  it.each(shapes)('%s: 400, and nothing is sent', async (_label, request) => {
    expect(await rawHttp(port, request)).toMatch(/^HTTP\/1\.1 400 /)
  })
})

describe('bad bodies on the HTTP transports', () => {
  for (const path of ['/poll', '/long-poll', '/sse']) {
    it(`${path}: text/plain is 415, deep JSON is 400, both with a code`, async () => {
      const plain = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify({ type: 'send', room: ROOM, text: 'no-cors' }),
      })
      expect(plain.status).toBe(415)
      expect(await plain.json()).toMatchObject({ code: 'LAB_ERR_MEDIA_TYPE' })
      for (const field of ['type', 'room', 'text', 'name']) {
        const res = await fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: json,
          body: `{"type":"send","room":"${ROOM}","text":"t","${field}":${deep(5000)}}`,
        })
        expect(res.status, field).toBe(400)
        expect(await res.json()).toMatchObject({
          code: 'LAB_ERR_BAD_MESSAGE',
          message: expect.stringContaining('nested') as unknown,
        })
      }
    })
  }

  it('the WebSocket answers deep JSON with an error and stays open', async () => {
    const client = createClient('websocket', server.url, 'deep')
    await client.join('deep-room')
    const error = await client.sendRaw(`{"type":"send","room":"${ROOM}","text":${deep(5000)}}`)
    expect(error).toMatchObject({ code: 'LAB_ERR_BAD_MESSAGE' })
    await client.send('deep-room', 'fine after')
    await waitForText(client, 'deep-room', 'fine after')
    await client.close()
  })

  it('Socket.IO answers deep JSON with an error ack', async () => {
    // Built by hand: socket.io-client itself overflows its stack walking a value this deep.
    const session = await engineSession()
    session.ws.send(`427["send",{"room":"${ROOM}","text":${deep(5000)}}]`)
    const ack = await until(() => session.got.find((p) => p.startsWith('437[')), 'the ack')
    expect(JSON.parse(ack.slice(3))).toEqual([expect.objectContaining({ type: 'error', code: 'LAB_ERR_BAD_MESSAGE' })])
    session.ws.terminate()
  })
})

describe('names that would pose as someone else', () => {
  const names = ['ann\u202Enna', 'a\u200Bnn', '\u2066ann\u2069', 'ann\u0007', 'ann\u0085', '   ']
  it.each(names)('%j is refused on every transport', async (name) => {
    const join = await fetch(`${server.url}/poll`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'join', room: ROOM, name }),
    })
    expect(join.status).toBe(400)
    expect(await join.json()).toMatchObject({ code: 'LAB_ERR_NAME' })
    const sse = await fetch(`${server.url}/sse?room=${ROOM}&name=${encodeURIComponent(name)}`)
    expect(sse.status).toBe(400)
    await sse.body?.cancel()
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?room=${ROOM}&name=${encodeURIComponent(name)}`)
    expect(
      await new Promise<[number, string]>((resolve) =>
        ws.once('close', (code, reason) => resolve([code, String(reason)])),
      ),
    ).toEqual([1008, 'LAB_ERR_NAME'])
    const socket = io(server.url, { forceNew: true, reconnection: false, auth: { protocol: 'lab', room: ROOM, name } })
    const refused = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      socket.once('connect_error', resolve),
    )
    expect(refused.data).toEqual({ code: 'LAB_ERR_NAME' })
    socket.disconnect()
  })
})
