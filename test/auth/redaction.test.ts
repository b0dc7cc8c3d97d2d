// Tokens never leak through the lab itself. One server with a class code logs
// everything (trace) while a token per channel opens a stream on every
// transport, a login succeeds, one fails, a forged token and a malformed
// request knock; then no token and no code may be found in the log or in
// anything the lab serves about its connections. The handshakes say instead
// where each token travelled and who it named.
import { request } from 'node:http'
import { PassThrough } from 'node:stream'
import { EventSource } from 'eventsource'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { TransportName, Welcome } from '../../server/core/protocol.ts'
import type { Handshake, HandshakeAuth } from '../../server/wire/types.ts'
import { rawHttp } from '../support/raw.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const CLASS_CODE = 'class-code-Qz81pLm'
const INSTRUCTOR_CODE = 'instructor-code-Wv27kTs'
const WRONG_CODE = 'wrong-code-Hb64nRc'
const FORGED_TOKEN = 'forged-token-Xy93jDf'
type Channel = HandshakeAuth['channel']

/** Every way each transport can carry a token from a script. */
const CHANNELS: Record<TransportName, Channel[]> = {
  'short-polling': ['authorization', 'query', 'cookie'],
  'long-polling': ['authorization', 'query', 'cookie'],
  sse: ['authorization', 'query', 'cookie'],
  websocket: ['authorization', 'query', 'cookie', 'subprotocol'],
  'socket.io': ['authorization', 'query', 'cookie', 'subprotocol', 'socket.io-auth'],
}

interface Opened {
  transport: TransportName
  channel: Channel
  name: string
  token: string
  welcome: Welcome
}

let server: RunningServer
let log = ''
let instructorToken = ''
const secrets: string[] = [CLASS_CODE, INSTRUCTOR_CODE, WRONG_CODE, FORGED_TOKEN]
const opened: Opened[] = []
const closers: Array<() => void> = []

async function login(code: string, name: string): Promise<Response> {
  return fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  })
}

async function tokenFor(name: string, code = CLASS_CODE): Promise<string> {
  const res = await login(code, name)
  expect(res.status).toBe(200)
  const { token } = (await res.json()) as { token: string }
  secrets.push(token)
  return token
}

/** The headers and query that put `token` on an HTTP channel. */
function httpCarrier(channel: Channel, token: string): { headers: Record<string, string>; query: string } {
  if (channel === 'authorization') return { headers: { authorization: `Bearer ${token}` }, query: '' }
  if (channel === 'cookie') return { headers: { cookie: `lab_token=${token}` }, query: '' }
  return { headers: {}, query: `&token=${encodeURIComponent(token)}` }
}

/** A join on a connection of its own (fetch would reuse one, and a later join there replaces the handshake kept). */
function joinAlone(path: string, headers: Record<string, string>): Promise<Welcome> {
  const body = JSON.stringify({ type: 'join', room: 'secrets' })
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () =>
          res.statusCode === 200 ? resolve(JSON.parse(text) as Welcome) : reject(new Error(`${path}: ${text}`)),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function openPolling(path: '/poll' | '/long-poll', channel: Channel, token: string): Promise<Welcome> {
  const { headers, query } = httpCarrier(channel, token)
  const welcome = await joinAlone(`${path}?x=1${query}`, headers)
  // One poll on the same channel: a request of its own, logged like the join.
  if (path === '/poll') {
    const poll = await fetch(`${server.url}/poll?room=secrets&since=${welcome.seq}${query}`, {
      headers: { ...headers, 'x-lab-session': welcome.session! },
    })
    expect(poll.status).toBe(200)
    await poll.body?.cancel()
  }
  return welcome
}

function openSse(channel: Channel, token: string): Promise<Welcome> {
  const { headers, query } = httpCarrier(channel, token)
  return new Promise((resolve, reject) => {
    const source = new EventSource(`${server.url}/sse?room=secrets${query}`, {
      fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
    })
    closers.push(() => source.close())
    source.addEventListener('welcome', (event) => resolve(JSON.parse(event.data as string) as Welcome))
    source.onerror = (event) => reject(new Error(`SSE over ${channel}: ${event.message ?? 'error'}`))
  })
}

function openWebSocket(channel: Channel, token: string): Promise<Welcome> {
  const { headers, query } = httpCarrier(channel === 'subprotocol' ? 'authorization' : channel, token)
  const socket =
    channel === 'subprotocol'
      ? new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=secrets`, ['bearer', token])
      : new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=secrets${query}`, { headers })
  closers.push(() => socket.close())
  return new Promise((resolve, reject) => {
    socket.once('message', (data) => resolve(JSON.parse((data as Buffer).toString()) as Welcome))
    socket.once('unexpected-response', (_req, res) => reject(new Error(`/ws over ${channel}: ${res.statusCode}`)))
  })
}

function openSocketIo(channel: Channel, token: string): Promise<Welcome> {
  const auth: Record<string, unknown> = { protocol: 'lab', room: 'secrets' }
  let socket: Socket
  if (channel === 'socket.io-auth')
    // Straight onto a WebSocket: the CONNECT packet that carries the token is then a frame the frame view reads.
    socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      auth: { ...auth, token },
    })
  else if (channel === 'subprotocol')
    // `bearer` first, as the gate requires: engine.io's ws answers with the first entry offered.
    socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      protocols: ['bearer', token],
      auth,
    })
  else if (channel === 'query') socket = io(server.url, { forceNew: true, reconnection: false, query: { token }, auth })
  else
    socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      extraHeaders: httpCarrier(channel, token).headers,
      auth,
    })
  closers.push(() => socket.disconnect())
  return new Promise((resolve, reject) => {
    socket.once('welcome', (welcome: Welcome) => resolve(welcome))
    socket.once('connect_error', (error) => reject(new Error(`Socket.IO over ${channel}: ${error.message}`)))
  })
}

function open(transport: TransportName, channel: Channel, token: string): Promise<Welcome> {
  switch (transport) {
    case 'short-polling':
      return openPolling('/poll', channel, token)
    case 'long-polling':
      return openPolling('/long-poll', channel, token)
    case 'sse':
      return openSse(channel, token)
    case 'websocket':
      return openWebSocket(channel, token)
    case 'socket.io':
      return openSocketIo(channel, token)
  }
}

async function read(path: string, token = instructorToken): Promise<string> {
  const res = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
  expect(res.status, path).toBe(200)
  return res.text()
}

/** A secret as text, and as the JSON of its bytes (how a logged Buffer would show it). */
function leaks(text: string): string[] {
  return secrets.filter((secret) => text.includes(secret) || text.includes([...Buffer.from(secret)].join(',')))
}

beforeAll(async () => {
  const stream = new PassThrough()
  stream.on('data', (chunk: Buffer) => {
    log += chunk.toString()
  })
  server = await startServer(
    { classCode: CLASS_CODE, instructorCode: INSTRUCTOR_CODE, logLevel: 'trace' },
    { logStream: stream },
  )
  instructorToken = await tokenFor('teacher', INSTRUCTOR_CODE)

  for (const [transport, channels] of Object.entries(CHANNELS) as Array<[TransportName, Channel[]]>)
    for (const channel of channels) {
      const name = `${transport.replace('.', '')}-${channel.replace('.', '')}`.slice(0, 32)
      const token = await tokenFor(name)
      opened.push({ transport, channel, name, token, welcome: await open(transport, channel, token) })
    }

  expect((await login(WRONG_CODE, 'intruder')).status).toBe(401)
  // A code typed without its quotes: the body is not JSON, and the parser's complaint must not quote it.
  const unquoted = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: `{"code": ${CLASS_CODE}, "name": "typo"}`,
  })
  expect(unquoted.status).toBe(400)
  expect((await fetch(`${server.url}/poll?room=secrets&token=${FORGED_TOKEN}`)).status).toBe(401)
  const [, , , stolen] = opened.map((o) => o.token)
  // A request Node's parser refuses, token in hand: its unparsed bytes reach the trace log's 'client error'.
  await rawHttp(server.port, `GET /sse?room=secrets&token=${stolen} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`)
  await until(() => log.includes('client error'), "the parser's refusal in the log")
}, 30_000)

afterAll(async () => {
  for (const close of closers) close()
  await server.close()
})

describe('a token on its way through the lab', () => {
  it('is in no log line, even at trace level, and neither is a code', () => {
    expect(log).toContain('incoming request')
    expect(leaks(log)).toEqual([])
  })

  it("is in no handshake a client or the instructor reads, and in no frame of the connection's", async () => {
    const ids = [...new Set(opened.map((o) => o.welcome.connectionId!))]
    const texts = [await read('/api/wire/handshakes')]
    for (const { connectionId, transport } of opened.map((o) => ({ ...o.welcome, transport: o.transport }))) {
      texts.push(await read(`/api/wire/handshakes/${connectionId}`))
      texts.push(await read(`/api/instructor/handshakes/${connectionId}`))
      if (transport === 'websocket' || transport === 'socket.io')
        texts.push(await read(`/api/wire/frames/${connectionId}`))
    }
    expect(ids.length).toBeGreaterThan(10)
    expect(leaks(texts.join('\n'))).toEqual([])
  })

  it('is in none of the figures: /api/wire, its connections, the rooms and their members, /metrics', async () => {
    const texts = await Promise.all(
      ['/api/wire', '/api/wire/connections', '/api/instructor/rooms', '/api/rooms/secrets/presence', '/metrics'].map(
        (path) => read(path),
      ),
    )
    expect(leaks(texts.join('\n'))).toEqual([])
  })

  it("keeps the subprotocol 'bearer' in sight and hides the token offered beside it", async () => {
    const ws = opened.find((o) => o.transport === 'websocket' && o.channel === 'subprotocol')!
    const { websocket } = JSON.parse(await read(`/api/wire/handshakes/${ws.welcome.connectionId}`)) as Record<
      string,
      Handshake
    >
    const protocol = (side: Handshake['request'] | null) =>
      side?.headers.find(([name]) => name.toLowerCase() === 'sec-websocket-protocol')?.[1]
    expect(protocol(websocket!.request)).toBe('bearer, [redacted]')
    expect(protocol(websocket!.response)).toBe('bearer')
  })
})

describe('the handshake of a stream opened with a token', () => {
  it.each(Object.keys(CHANNELS) as TransportName[])(
    'says on %s which channel carried it and who it named, never the token',
    async (transport) => {
      for (const o of opened.filter((each) => each.transport === transport)) {
        const handshakes = JSON.parse(await read(`/api/wire/handshakes/${o.welcome.connectionId}`)) as Record<
          string,
          Handshake
        >
        const auth = handshakes[transport]!.auth
        expect(auth, `${transport} over ${o.channel}`).toEqual({
          channel: o.channel,
          name: o.name,
          role: 'student',
          expiresAt: expect.any(Number) as number,
        })
        expect(auth!.expiresAt).toBeGreaterThan(Date.now())
      }
    },
  )

  it('has no auth on a server without a class code', async () => {
    const open = await startServer()
    try {
      const socket = new WebSocket(`${open.url.replace('http', 'ws')}/ws?room=lobby&name=ann`)
      const welcome = await new Promise<Welcome>((resolve) =>
        socket.once('message', (data) => resolve(JSON.parse((data as Buffer).toString()) as Welcome)),
      )
      const res = await fetch(`${open.url}/api/wire/handshakes/${welcome.connectionId}`)
      const { websocket } = (await res.json()) as Record<string, Handshake>
      expect(websocket!.request.startLine).toBe('GET /ws?room=lobby&name=ann HTTP/1.1')
      expect(websocket!.auth).toBeUndefined()
      socket.close()
    } finally {
      await open.close()
    }
  })
})
