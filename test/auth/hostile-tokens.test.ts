// Forged and tampered tokens against the server as its own process, the way
// `npm start` runs it with a class code and an instructor code. Each is
// written by hand on every channel of the four transports that check it in
// the request that opens them (raw HTTP, so that bytes no client library
// would send still go out); Socket.IO checks it after its handshake, in
// io.use, so there it goes through socket.io-client on every channel. Each must be refused with LAB_ERR_AUTH,
// never a 500; after each, as in transports/hostile.test.ts: the process up,
// a bystander still chatting, the target room's history unchanged.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { TokenSigner } from '../../server/auth/tokens.ts'
import type { Batch, ChatMessage, ServerMessage, TransportName } from '../../server/core/protocol.ts'
import { startServerProcess, type ServerProcess } from '../support/process.ts'
import { rawConnect } from '../support/raw.ts'
import { until } from '../support/wait.ts'
import { attempt, CHANNELS, type Channel } from './attempt.ts'

const CLASS_CODE = 'c0de'
const INSTRUCTOR_CODE = 'teach-me'
const SECRET = 'the hostile secret, 16+ chars'
const ROOM = 'target'
const WWW_AUTHENTICATE = /^www-authenticate: Bearer realm="transport-lab"\r?$/im
/** Node's own limit on a request's head: a token past it never reaches the lab. */
const HEADER_LIMIT = 16 * 1024

let server: ServerProcess
let port: number
let good: { student: string; speaker: string }
let bystander: WebSocket
let bystanderId: string
const heard: ChatMessage[] = []
let history: Batch
let checks = 0

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
const payloadOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>

const parts = (token: string) => token.split('.') as [string, string, string]
const NONE = b64({ alg: 'none', typ: 'JWT' })
const padded = (token: string, bytes: number) => `${parts(token)[0]}.${'x'.repeat(bytes)}.${parts(token)[2]}`

/** Each made from a student's good token. */
const FORGERIES: Record<string, (token: string) => string> = {
  'with alg "none" and no signature': (t) => `${NONE}.${parts(t)[1]}.`,
  'with alg "none" claiming the instructor role': (t) => `${NONE}.${b64({ ...payloadOf(t), role: 'instructor' })}.`,
  'with another name, the signature kept': (t) =>
    `${parts(t)[0]}.${b64({ ...payloadOf(t), sub: 'mallory' })}.${parts(t)[2]}`,
  'with the instructor role, the signature kept': (t) =>
    `${parts(t)[0]}.${b64({ ...payloadOf(t), role: 'instructor' })}.${parts(t)[2]}`,
  'signed with another secret': () => new TokenSigner('not this lab, 16+').sign('ann', 'instructor', 3_600_000).token,
  truncated: (t) => t.slice(0, -6),
  'of two parts': (t) => `${parts(t)[0]}.${parts(t)[1]}`,
  'of four parts': (t) => `${t}.${parts(t)[2]}`,
  'that is not base64url at all': () => '%E0%A4%A.$$$.!*%',
  'in unicode': () => 'tøkén.🔑.\u202Eñ',
  'of 12 KB': (t) => padded(t, 12_000),
  'of 100 KB': (t) => padded(t, 100_000),
}

async function login(code: string, name: string): Promise<string> {
  const res = await fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name }),
  })
  if (res.status !== 200) throw new Error(`login refused: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { token: string }).token
}

async function readHistory(): Promise<Batch> {
  const res = await fetch(`${server.url}/poll?room=${ROOM}&since=0`, {
    headers: { authorization: `Bearer ${good.speaker}` },
  })
  return (await res.json()) as Batch
}

const messages = (batch: Batch) => batch.entries.filter((e) => e.type === 'message')

interface RawAnswer {
  status: number
  head: string
  body: string
}

interface RawRequest {
  label: string
  lines: string[]
  body?: string
  upgrade?: boolean
  /** What a refusal answers here: the lab's own 401, or engine.io's 403 (polling handshake) and 400 (upgrade). */
  refusal: 401 | 403 | 400
}

/** One request written by hand (UTF-8 bytes as given), read until the server hangs up or opened a stream. */
async function rawRequest(request: RawRequest): Promise<RawAnswer> {
  const conn = await rawConnect(port)
  const lines = [...request.lines, 'Host: lab']
  if (request.upgrade)
    lines.push('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', `Sec-WebSocket-Key: ${KEY}`)
  else lines.push('Connection: close')
  const body = request.body ?? ''
  if (body) lines.push('Content-Type: application/json', `Content-Length: ${Buffer.byteLength(body)}`)
  conn.socket.write(Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'utf8'))
  // A refusal ends with the connection; a 101 or an event stream would stay open: that too is an answer.
  const opened = () => /^HTTP\/1\.1 (101|200) [^]*\r\n\r\n/.test(conn.received().toString('latin1'))
  await until(() => conn.closed() || opened(), `the answer to ${request.label}`)
  conn.socket.destroy()
  const text = conn.received().toString('utf8')
  const end = text.indexOf('\r\n\r\n')
  return { status: Number(text.slice(9, 12)), head: text.slice(0, end), body: text.slice(end + 4) }
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ=='

/** The request line's target and the header lines that carry each token on its channel. */
function carry(path: string, tokens: Array<[Channel, string]>): { target: string; headers: string[] } {
  let target = path
  const headers: string[] = []
  for (const [channel, token] of tokens) {
    if (channel === 'authorization') headers.push(`Authorization: Bearer ${token}`)
    if (channel === 'cookie') headers.push(`Cookie: lab_token=${token}`)
    if (channel === 'subprotocol') headers.push(`Sec-WebSocket-Protocol: bearer, ${token}`)
    if (channel === 'query') target += `${target.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`
  }
  return { target, headers }
}

/** The requests that open each transport: polling's join and read, the SSE stream, the upgrade, Engine.IO's handshakes. */
function requestsFor(transport: TransportName, tokens: Array<[Channel, string]>): RawRequest[] {
  const request = (method: string, path: string, refusal: RawRequest['refusal'], extra: Partial<RawRequest> = {}) => {
    const { target, headers } = carry(path, tokens)
    return { label: `${method} ${path}`, lines: [`${method} ${target} HTTP/1.1`, ...headers], refusal, ...extra }
  }
  switch (transport) {
    case 'short-polling':
    case 'long-polling': {
      const path = transport === 'short-polling' ? '/poll' : '/long-poll'
      return [
        request('POST', path, 401, { body: JSON.stringify({ type: 'join', room: ROOM }) }),
        request('GET', `${path}?room=${ROOM}&since=0`, 401),
      ]
    }
    case 'sse':
      return [request('GET', `/sse?room=${ROOM}`, 401)]
    case 'websocket':
      return [request('GET', `/ws?room=${ROOM}`, 401, { upgrade: true })]
    case 'socket.io':
      // Engine.IO's handshake opens a session whatever it carries: the refusal is io.use's (socketIoRefused).
      return []
  }
}

/**
 * socket.io-client over each Engine.IO transport, with `tokens` on their
 * channels, gets connect_error data.code LAB_ERR_AUTH; a head too large for
 * Node's parser (431) never gets that far.
 */
async function socketIoRefused(tokens: Array<[Channel, string]>): Promise<void> {
  const headers: Record<string, string> = {}
  const query: Record<string, string> = {}
  const auth: Record<string, string> = { protocol: 'lab', room: ROOM }
  for (const [channel, token] of tokens) {
    if (channel === 'authorization') headers.authorization = `Bearer ${token}`
    if (channel === 'cookie') headers.cookie = `lab_token=${token}`
    if (channel === 'query') query.token = token
    if (channel === 'socket.io-auth') auth.token = token
  }
  const what = tokens.map(([channel]) => channel).join(' + ')
  // A client library refuses to write a header that is not Latin-1: only a raw request could send one.
  if (Object.values(headers).some((value) => /[^\x20-\xff]/.test(value))) return
  const tooLarge = JSON.stringify({ headers, query }).length > HEADER_LIMIT
  for (const transport of ['polling', 'websocket'] as const) {
    const socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      transports: [transport],
      extraHeaders: headers,
      query,
      auth,
    })
    const refused = await new Promise<Error & { data?: { code: string }; description?: unknown }>((resolve) => {
      socket.once('connect_error', resolve)
      socket.once('welcome', () => resolve(new Error('joined')))
    })
    socket.disconnect()
    if (tooLarge) expect(refused.message, `${what} over ${transport}`).not.toBe('joined')
    else expect(refused.data, `${what} over ${transport}: ${refused.message}`).toEqual({ code: 'LAB_ERR_AUTH' })
  }
}

/** Every request that opens `transport`, with `tokens` on their channels, is refused with LAB_ERR_AUTH. */
async function expectRefusedEverywhere(transport: TransportName, tokens: Array<[Channel, string]>): Promise<void> {
  for (const request of requestsFor(transport, tokens)) {
    const answer = await rawRequest(request)
    const what = `${request.label} with ${tokens.map(([channel]) => channel).join(' + ')}`
    const headBytes = request.lines.join('\r\n').length
    if (headBytes > HEADER_LIMIT) {
      // Node's parser refuses a head this large before any of the lab's code runs.
      expect(answer.status, what).toBe(431)
      continue
    }
    expect(answer.status, `${what}: ${answer.head}\n${answer.body}`).toBe(request.refusal)
    expect(answer.body, what).toMatch(/LAB_ERR_AUTH/)
    if (request.refusal === 401) expect(answer.head, what).toMatch(WWW_AUTHENTICATE)
  }
}

beforeAll(async () => {
  server = await startServerProcess({
    CLASS_CODE,
    INSTRUCTOR_CODE,
    AUTH_SECRET: SECRET,
    MESSAGE_RATE: '1000',
    MESSAGE_BURST: '1000',
    MAX_CLIENTS_PER_ADDRESS: '500',
    LOG_LEVEL: 'fatal',
  })
  port = Number(new URL(server.url).port)
  good = { student: await login(CLASS_CODE, 'ann'), speaker: await login(CLASS_CODE, 'speaker') }
  for (const text of ['one', 'two', 'three']) {
    await fetch(`${server.url}/poll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${good.speaker}` },
      body: JSON.stringify({ type: 'send', room: ROOM, text }),
    })
  }
  history = await readHistory()
  expect(messages(history)).toHaveLength(3)

  bystander = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=chat`, {
    headers: { authorization: `Bearer ${await login(CLASS_CODE, 'bystander')}` },
  })
  let welcomed = false
  bystander.on('message', (data) => {
    const message = JSON.parse((data as Buffer).toString()) as ServerMessage
    if (message.type === 'welcome') {
      welcomed = true
      bystanderId = message.clientId
    }
    if (message.type === 'message') heard.push(message)
  })
  await until(() => welcomed, "the bystander's welcome")
}, 30_000)

afterEach(async () => {
  expect(server.child.exitCode, server.output()).toBeNull()
  const text = `still chatting ${++checks}`
  const res = await fetch(`${server.url}/long-poll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${good.speaker}` },
    body: JSON.stringify({ type: 'send', room: 'chat', text }),
  })
  expect(res.status).toBe(200)
  await until(() => heard.find((m) => m.text === text), `the bystander to hear "${text}"`)
  const now = await readHistory()
  expect(now).toMatchObject({ epoch: history.epoch, recovered: true })
  expect(messages(now)).toEqual(messages(history))
})

afterAll(async () => {
  bystander?.close()
  server?.child.kill('SIGTERM')
  await server?.exited
})

const TRANSPORTS: TransportName[] = ['short-polling', 'long-polling', 'sse', 'websocket', 'socket.io']
/** The channels a request written by hand carries; Socket.IO's auth object goes through socket.io-client. */
const RAW_CHANNELS = (transport: TransportName) => CHANNELS[transport].filter((c) => c !== 'socket.io-auth')

describe('forged and tampered tokens', () => {
  const rows = Object.keys(FORGERIES).flatMap((label) => TRANSPORTS.map((transport) => ({ label, transport })))

  it.each(rows)('a token $label is refused by $transport on every channel', async ({ label, transport }) => {
    const token = FORGERIES[label]!(good.student)
    for (const channel of RAW_CHANNELS(transport)) await expectRefusedEverywhere(transport, [[channel, token]])
    if (transport !== 'socket.io') return
    for (const channel of RAW_CHANNELS(transport)) await socketIoRefused([[channel, token]])
    const outcome = await attempt('socket.io', server.url, ROOM, { token, channel: 'socket.io-auth' })
    if (outcome.joined) {
      await outcome.close()
      throw new Error(`joined as ${outcome.welcome.name}`)
    }
    const [answer] = outcome.answers
    // Past engine.io's packet limit (BODY_LIMIT_BYTES) the CONNECT packet itself is refused.
    if (token.length > 65_536) expect(answer).toMatchObject({ status: 413 })
    else expect(answer).toMatchObject({ via: 'io.use connect_error', code: 'LAB_ERR_AUTH' })
  })
})

describe('a token in two channels at once', () => {
  it.each(TRANSPORTS)(
    '%s: a forged token in the Authorization header is not outvoted by a good one in the cookie',
    async (transport) => {
      const forged = FORGERIES['with the instructor role, the signature kept']!(good.student)
      const tokens: Array<[Channel, string]> = [
        ['authorization', forged],
        ['cookie', good.student],
      ]
      await expectRefusedEverywhere(transport, tokens)
      if (transport === 'socket.io') await socketIoRefused(tokens)
    },
  )

  it.each(TRANSPORTS)(
    '%s: a forged token in the query is not outvoted by a good one in the cookie',
    async (transport) => {
      const tokens: Array<[Channel, string]> = [
        ['query', FORGERIES['signed with another secret']!(good.student)],
        ['cookie', good.student],
      ]
      await expectRefusedEverywhere(transport, tokens)
      if (transport === 'socket.io') await socketIoRefused(tokens)
    },
  )

  it("Socket.IO: a forged token in auth is not outvoted by a good cookie (engine.io lets the cookie's handshake in; io.use reads auth first)", async () => {
    const socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      extraHeaders: { cookie: `lab_token=${good.student}` },
      auth: { protocol: 'lab', room: ROOM, token: FORGERIES['truncated']!(good.student) },
    })
    const refused = await new Promise<Error & { data?: { code: string } }>((resolve) => {
      socket.once('connect_error', resolve)
      socket.once('welcome', () => resolve(new Error('joined')))
    })
    socket.disconnect()
    expect(refused.data).toEqual({ code: 'LAB_ERR_AUTH' })
  })
})

describe('the instructor routes (INSTRUCTOR_CODE is set)', () => {
  const routes = (): Array<{ method: string; path: string; body?: unknown }> => [
    { method: 'POST', path: '/api/instructor/broadcast', body: { room: ROOM, text: 'a forged broadcast' } },
    { method: 'POST', path: '/api/instructor/disconnect', body: { clientId: bystanderId } },
    { method: 'POST', path: '/api/wire/reset', body: {} },
    { method: 'GET', path: '/api/wire/handshakes' },
    { method: 'GET', path: '/api/instructor/rooms' },
  ]
  const call = (route: ReturnType<typeof routes>[number], headers: Record<string, string>, query = '') =>
    fetch(`${server.url}${route.path}${query}`, {
      method: route.method,
      headers: route.body ? { ...headers, 'content-type': 'application/json' } : headers,
      body: route.body ? JSON.stringify(route.body) : undefined,
    })
  const claimsInstructor = [
    'with alg "none" claiming the instructor role',
    'with the instructor role, the signature kept',
    'signed with another secret',
  ]

  it.each(claimsInstructor)('a token %s opens none of them, on any channel: 401 LAB_ERR_AUTH', async (label) => {
    const token = FORGERIES[label]!(good.student)
    expect(payloadOf(token)).toMatchObject({ role: 'instructor' })
    for (const route of routes()) {
      for (const [headers, query] of [
        [{ authorization: `Bearer ${token}` }, ''],
        [{ cookie: `lab_token=${token}` }, ''],
        [{}, `?token=${encodeURIComponent(token)}`],
      ] as const) {
        const res = await call(route, headers, query)
        const what = `${route.method} ${route.path} ${JSON.stringify(headers)}${query}`
        expect(res.status, what).toBe(401)
        expect(await res.json(), what).toMatchObject({ code: 'LAB_ERR_AUTH' })
      }
    }
  })

  it("a student's own token opens none of them: 403 LAB_ERR_FORBIDDEN", async () => {
    for (const route of routes()) {
      const res = await call(route, { authorization: `Bearer ${good.student}` })
      expect(res.status, route.path).toBe(403)
      expect(await res.json(), route.path).toMatchObject({ code: 'LAB_ERR_FORBIDDEN' })
    }
  })

  it("a student's token in the header beside a role-tampered one in the cookie is still a student's: 403", async () => {
    const tampered = FORGERIES['with the instructor role, the signature kept']!(good.student)
    for (const route of routes()) {
      const res = await call(route, { authorization: `Bearer ${good.student}`, cookie: `lab_token=${tampered}` })
      expect(res.status, route.path).toBe(403)
      expect(await res.json(), route.path).toMatchObject({ code: 'LAB_ERR_FORBIDDEN' })
    }
  })

  it("the instructor's own token opens them (so the refusals above are the token's, not a missing route)", async () => {
    const instructor = await login(INSTRUCTOR_CODE, 'teacher')
    const res = await fetch(`${server.url}/api/instructor/rooms`, {
      headers: { authorization: `Bearer ${instructor}` },
    })
    expect(res.status).toBe(200)
  })
})

describe("other spellings of a transport's path", () => {
  // Fastify's router decodes %-escapes and reads an absolute-form target (what a client sends a proxy):
  // each spelling it serves as a transport must be checked as that transport.
  const spellings = [
    '/%70oll?room=target&since=0',
    'http://lab/poll?room=target&since=0',
    '/long-%70oll?room=target&since=0',
    'http://lab/long-poll?room=target&since=0',
    '/%73se?room=target',
    'http://lab/sse?room=target',
  ]
  const served = (status: number) => status !== 401 && status !== 403 && status !== 404

  it.each(spellings)('GET %s without a token is not served', async (target) => {
    const answer = await rawRequest({ label: target, lines: [`GET ${target} HTTP/1.1`], refusal: 401 })
    expect(served(answer.status), `${answer.head}\n${answer.body}`).toBe(false)
  })

  it.each(spellings)('GET %s from a page on another origin, with a good token, is not served', async (target) => {
    const lines = [`GET ${target} HTTP/1.1`, 'Origin: https://evil.example', `Authorization: Bearer ${good.student}`]
    const answer = await rawRequest({ label: target, lines, refusal: 401 })
    expect(served(answer.status), `${answer.head}\n${answer.body}`).toBe(false)
  })

  it.each(['http://lab/ws?room=target', '/%77s?room=target'])(
    'an upgrade to %s without a token is never a 101',
    async (target) => {
      const answer = await rawRequest({ label: target, lines: [`GET ${target} HTTP/1.1`], upgrade: true, refusal: 401 })
      expect(served(answer.status), `${answer.head}\n${answer.body}`).toBe(false)
    },
  )

  it.each(spellings.map((target) => target.split('?')[0]!))('POST %s without a token sends nothing', async (target) => {
    const body = JSON.stringify({ type: 'send', room: ROOM, text: `posted to ${target}` })
    const answer = await rawRequest({ label: target, lines: [`POST ${target} HTTP/1.1`], body, refusal: 401 })
    expect(served(answer.status), `${answer.head}\n${answer.body}`).toBe(false)
  })
})
