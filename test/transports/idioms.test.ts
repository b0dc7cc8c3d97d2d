// Each transport's own way of saying things: close codes, connect errors,
// HTTP statuses, Last-Event-ID, the long-poll timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

let server: RunningServer
const wsUrl = (query = '') => `${server.url.replace('http', 'ws')}/ws${query}`
beforeAll(async () => {
  server = await startServer({ bodyLimitBytes: 2048, textMaxBytes: 1000 })
})
afterAll(async () => {
  await server.close()
})

/** A send over POST /poll, without a session. */
function sendByPost(room: string, text: string): Promise<Response> {
  return fetch(`${server.url}/poll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'send', room, text }),
  })
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))
}

describe('the raw WebSocket', () => {
  it('closes with 1003 on a binary frame, after saying why', async () => {
    const ws = new WebSocket(wsUrl())
    const messages: string[] = []
    ws.on('message', (m) => messages.push((m as Buffer).toString()))
    await new Promise((resolve) => ws.once('message', resolve))
    ws.send(Buffer.from([1, 2, 3]))
    expect(await closeOf(ws)).toMatchObject({ code: 1003 })
    expect(messages.at(-1)).toContain('LAB_ERR_UNSUPPORTED')
  })

  it('closes with 1009 on a frame over the body limit', async () => {
    const ws = new WebSocket(wsUrl())
    await new Promise((resolve) => ws.once('message', resolve))
    ws.send('x'.repeat(4096))
    expect((await closeOf(ws)).code).toBe(1009)
  })

  it('closes with 1007 on text that is not UTF-8', async () => {
    const ws = new WebSocket(wsUrl())
    await new Promise((resolve) => ws.once('message', resolve))
    // The client library refuses to send invalid UTF-8 as text, so write the frame by hand: FIN+text, masked, 2 bytes.
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket
    socket.write(Buffer.from([0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28]))
    expect((await closeOf(ws)).code).toBe(1007)
  })

  it('closes with 1008 and the code as reason when the query names a bad room', async () => {
    const ws = new WebSocket(wsUrl('?room=not%20ok'))
    const first = new Promise<string>((resolve) => ws.once('message', (m) => resolve((m as Buffer).toString())))
    expect(await closeOf(ws)).toEqual({ code: 1008, reason: 'LAB_ERR_ROOM_NAME' })
    expect(JSON.parse(await first)).toMatchObject({ type: 'error', code: 'LAB_ERR_ROOM_NAME' })
  })

  it('keeps the connection open after a bad message and answers the next good one', async () => {
    const ws = new WebSocket(wsUrl('?room=idioms&name=steady'))
    const messages: Array<{ type: string; code?: string; text?: string }> = []
    ws.on('message', (m) => messages.push(JSON.parse((m as Buffer).toString()) as (typeof messages)[number]))
    await new Promise((resolve) => ws.once('message', resolve))
    ws.send('not json')
    ws.send(JSON.stringify({ type: 'send', room: 'idioms', text: 'fine' }))
    await new Promise<void>((resolve) => ws.on('message', () => messages.some((m) => m.text === 'fine') && resolve()))
    expect(messages.map((m) => m.code ?? m.type)).toEqual(['welcome', 'LAB_ERR_BAD_JSON', 'message'])
    ws.close()
  })
  it('is only at /ws: an upgrade anywhere nothing accepts one, the page at / included, gets 404 LAB_ERR_NOT_FOUND', async () => {
    for (const path of ['/', '/nowhere', '/api/wire']) {
      const stray = new WebSocket(`${server.url.replace('http', 'ws')}${path}`)
      stray.on('error', () => {})
      const [status, body] = await new Promise<[number, string]>((resolve) => {
        stray.once('open', () => {
          stray.terminate()
          resolve([101, ''])
        })
        stray.once('unexpected-response', (_req, res) => {
          let text = ''
          res.on('data', (chunk: Buffer) => (text += chunk.toString()))
          res.on('end', () => resolve([res.statusCode ?? 0, text]))
        })
      })
      expect(status).toBe(404)
      expect(JSON.parse(body)).toMatchObject({ type: 'error', code: 'LAB_ERR_NOT_FOUND' })
    }
  })
})

describe('Socket.IO', () => {
  it('refuses a connection whose auth has a bad name with connect_error and a code', async () => {
    const socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      auth: { protocol: 'lab', name: '' + 'n'.repeat(40) },
    })
    const error = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      socket.once('connect_error', resolve),
    )
    expect(error.data).toEqual({ code: 'LAB_ERR_NAME' })
    socket.disconnect()
  })

  it('answers an ack with the error when a send is bad', async () => {
    const socket = io(server.url, { forceNew: true, auth: { protocol: 'lab' } })
    await new Promise((resolve) => socket.once('welcome', resolve))
    const answer: unknown = await socket.emitWithAck('send', { room: 'lobby', text: '' })
    expect(answer).toMatchObject({ type: 'error', code: 'LAB_ERR_TEXT_EMPTY', ref: 'send' })
    const ok: unknown = await socket.emitWithAck('send', { room: 'lobby', text: 'good' })
    expect(ok).toMatchObject({ type: 'ack', room: 'lobby' })
    socket.disconnect()
  })

  it('disconnects a client whose packet is over the body limit (engine.io maxHttpBufferSize)', async () => {
    const socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      auth: { protocol: 'lab' },
    })
    await new Promise((resolve) => socket.once('welcome', resolve))
    const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve))
    socket.emit('send', { room: 'lobby', text: 'y'.repeat(5000) })
    expect(await reason).toBe('transport close')
  })
})

describe('the HTTP transports', () => {
  it('answer a body over the limit with 413 LAB_ERR_TOO_LARGE', async () => {
    const res = await fetch(`${server.url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'send', room: 'lobby', text: 'z'.repeat(5000) }),
    })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ type: 'error', code: 'LAB_ERR_TOO_LARGE' })
  })

  it('answer a form-encoded body with 415 and say to send JSON', async () => {
    const res = await fetch(`${server.url}/long-poll`, { method: 'POST', body: new URLSearchParams({ type: 'send' }) })
    expect(res.status).toBe(415)
    expect(await res.json()).toMatchObject({ code: 'LAB_ERR_MEDIA_TYPE' })
  })

  it('answer a bad cursor with 400 LAB_ERR_CURSOR', async () => {
    const res = await fetch(`${server.url}/poll?room=lobby&since=-3`)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ code: 'LAB_ERR_CURSOR' })
  })

  it('answer an unknown session with 404 LAB_ERR_UNKNOWN_CLIENT', async () => {
    const res = await fetch(`${server.url}/poll?room=lobby`, { headers: { 'x-lab-session': 'made-up' } })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'LAB_ERR_UNKNOWN_CLIENT' })
  })

  it('answer an unknown path with 404 LAB_ERR_NOT_FOUND', async () => {
    const res = await fetch(`${server.url}/nothing/here`)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'LAB_ERR_NOT_FOUND' })
  })
})

describe('short polling', () => {
  it('answers each poll from its own cursor, however many polls before it read the same messages', async () => {
    const post = (text: string) => sendByPost('pages', text)
    let epoch = ''
    const texts = async (since: number) => {
      const batch = (await fetch(`${server.url}/poll?room=pages&since=${since}&epoch=${epoch}`).then((r) =>
        r.json(),
      )) as { epoch: string; entries: { text?: string }[] }
      epoch = batch.epoch
      return batch.entries.flatMap((e) => e.text ?? [])
    }
    await post('first')
    expect(await texts(0)).toEqual(['first'])
    expect(await texts(0)).toEqual(['first'])
    await post('second')
    expect(await texts(0)).toEqual(['first', 'second'])
    expect(await texts(1)).toEqual(['second'])
    expect(await texts(2)).toEqual([])
  })

  it('counts as payload exactly the entries each answer carries, whichever cursor asked', async () => {
    const post = (text: string) => sendByPost('tails', text)
    await post('one')
    await post('two, a little longer')
    await post('three')
    const payloadOut = () => server.app.wire.snapshot().transports['short-polling']!.payloadOut
    const { epoch } = (await fetch(`${server.url}/poll?room=tails`).then((r) => r.json())) as { epoch: string }
    for (const since of [0, 1, 1, 2, 0, 0, 2, 1]) {
      const before = payloadOut()
      const text = await fetch(`${server.url}/poll?room=tails&since=${since}&epoch=${epoch}`).then((r) => r.text())
      const { entries } = JSON.parse(text) as { entries: { seq: number }[] }
      expect(entries.map((e) => e.seq)).toEqual([1, 2, 3].slice(since))
      const inText = entries.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0)
      expect(payloadOut() - before).toBe(inText)
    }
  })

  it("answers a poll at the room's head with nothing and the head it is at, however often the room moves", async () => {
    const post = (text: string) => sendByPost('heads', text)
    const atHead = async (since: number, epoch: string) =>
      (await fetch(`${server.url}/poll?room=heads&since=${since}&epoch=${epoch}`).then((r) => r.json())) as {
        seq: number
        epoch: string
        recovered: boolean
        entries: unknown[]
      }
    await post('one')
    const { seq, epoch } = (await fetch(`${server.url}/poll?room=heads`).then((r) => r.json())) as {
      seq: number
      epoch: string
    }
    for (let head = seq; head < seq + 3; head++) {
      // Twice at each head: the second answer is the same text as the first, the next head's is not.
      for (let i = 0; i < 2; i++)
        expect(await atHead(head, epoch)).toMatchObject({ seq: head, epoch, recovered: true, entries: [] })
      await post('next')
    }
    // A room nobody wrote to is empty at seq 0 whatever the cursor; only a cursor of another log was not recovered.
    const nowhere = (query: string) => fetch(`${server.url}/poll?room=nowhere&${query}`).then((r) => r.json())
    expect(await nowhere('since=0')).toMatchObject({ seq: 0, recovered: true, entries: [] })
    expect(await nowhere('since=3&epoch=gone')).toMatchObject({ seq: 0, recovered: false, entries: [] })
  })
})

describe('long polling', () => {
  it('answers an empty batch when its timeout passes with nothing new', async () => {
    const head = (await fetch(`${server.url}/poll?room=quiet`).then((r) => r.json())) as { seq: number }
    const res = await fetch(`${server.url}/long-poll?room=quiet&since=${head.seq}&timeout=150`)
    expect(await res.json()).toMatchObject({ type: 'batch', room: 'quiet', recovered: true, entries: [] })
  })

  it('holds a poll with nothing new and answers it with the message that arrives while it is held', async () => {
    const post = (text: string) => sendByPost('wake', text)
    await post('already there')
    // From the room's head: an answer given at once could only be empty (or, ignoring the cursor, 'already there').
    const head = (await fetch(`${server.url}/poll?room=wake`).then((r) => r.json())) as { seq: number; epoch: string }
    const heldBefore = server.app.wire.snapshot().transports['long-polling']?.requestsHeld ?? 0
    let answered = false
    const held = fetch(`${server.url}/long-poll?room=wake&since=${head.seq}&epoch=${head.epoch}&timeout=60000`).then(
      async (r) => {
        answered = true
        return r.json() as Promise<unknown>
      },
    )
    await until(
      () => server.app.wire.snapshot().transports['long-polling']?.requestsHeld === heldBefore + 1 || answered,
      'the long poll to be held',
    )
    expect(answered).toBe(false)

    await post('now')
    expect(await held).toMatchObject({
      seq: head.seq + 1,
      entries: [expect.objectContaining({ text: 'now', seq: head.seq + 1 })],
    })
  })
})

describe('Server-Sent Events', () => {
  /** Opens a stream with the given Last-Event-ID and reads until `done` says it has enough; returns its events. */
  async function readStream(room: string, lastEventId: string, done: (text: string) => boolean): Promise<string[]> {
    const controller = new AbortController()
    const res = await fetch(`${server.url}/sse?room=${room}`, {
      headers: { 'last-event-id': lastEventId },
      signal: controller.signal,
    })
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8')
    const reader = res.body!.getReader()
    let text = ''
    while (!done(text)) text += new TextDecoder().decode((await reader.read()).value)
    controller.abort()
    return text.split('\n\n').filter((e) => e.includes('data:'))
  }

  async function post(room: string, text: string): Promise<{ seq: number; id: string }> {
    const res = await fetch(`${server.url}/sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'send', room, text }),
    })
    return (await res.json()) as { seq: number; id: string }
  }

  it('names every event EPOCH-SEQ and resumes from that Last-Event-ID with exactly the missed events', async () => {
    const [first] = [await post('replay', 'e1'), await post('replay', 'e2'), await post('replay', 'e3')]
    const epoch = first.id.split('-')[0]!
    const events = await readStream('replay', first.id, (text) => text.includes('"e3"'))
    expect(events[0]).toMatch(new RegExp(`^retry: \\d+\\nid: ${epoch}-1\\nevent: welcome\\ndata: `))
    expect(events[0]).toContain('"recovered":true')
    // 2 and 3 are the missed messages; 4 is this stream's own join, logged before it was welcomed.
    expect(events.slice(1).map((e) => e.split('\n').slice(0, 2).join(' | '))).toEqual(
      [
        `id: ${epoch}-2 | data: {"type":"message","room":"replay","seq":2,"epoch"`,
        `id: ${epoch}-3 | data: {"type":"message","room":"replay","seq":3,"epoch"`,
        `id: ${epoch}-4 | event: notice`,
      ].map((line): unknown => expect.stringContaining(line)),
    )
  })

  it('does not take a Last-Event-ID of another log, or without its epoch, for a resume', async () => {
    await post('amnesia', 'a1')
    await post('amnesia', 'a2')
    for (const lastEventId of ['1', 'deadbeef-1']) {
      const [welcome] = await readStream('amnesia', lastEventId, (text) => text.includes('event: welcome'))
      expect(welcome).toContain('"recovered":false')
    }
    const bad = await fetch(`${server.url}/sse?room=amnesia`, { headers: { 'last-event-id': 'not an id' } })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ code: 'LAB_ERR_CURSOR' })
  })

  it('answers join by POST with LAB_ERR_UNSUPPORTED and says how to join', async () => {
    const res = await fetch(`${server.url}/sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'join', room: 'x' }),
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      code: 'LAB_ERR_UNSUPPORTED',
      message: expect.stringContaining('GET /sse?room=') as unknown,
    })
  })
})

describe('WebSocket compression', () => {
  it('is off unless the client asks with ?compress=1, and then shrinks the frames', async () => {
    const plain = new WebSocket(wsUrl('?room=zip&name=plain'))
    await new Promise((resolve) => plain.once('message', resolve))
    expect(plain.extensions).toBe('')
    const zipped = new WebSocket(wsUrl('?room=zip&name=zipped&compress=1'))
    await new Promise((resolve) => zipped.once('message', resolve))
    expect(zipped.extensions).toMatch(/permessage-deflate/)
    const handshake = server.app.wire.handshakes().websocket!
    expect(
      handshake.response!.headers.some(
        ([k, v]) => k.toLowerCase() === 'sec-websocket-extensions' && v.includes('permessage-deflate'),
      ),
    ).toBe(true)
    plain.close()
    zipped.close()
  })
})
