// Who may join, asked of every transport the way its own clients ask: each
// channel a token can travel on, with no token, a token signed elsewhere, an
// expired one and a good one, and from a page on another origin. A class
// code is set, so every transport requires a token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { TokenSigner } from '../../server/auth/tokens.ts'
import type { ChatMessage, ServerMessage, TransportName } from '../../server/core/protocol.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'
import { attempt, CHANNELS, type Channel, type Outcome, type Presented, type Refused } from './attempt.ts'

const CLASS_CODE = 'c0de'
const SECRET = 'the matrix secret, 16+ chars'
const ROOM = 'matrix'
const EVIL = 'https://evil.example'
const BEARER = 'Bearer realm="transport-lab"'

/** Socket.IO twice: its polling handshake and its WebSocket upgrade are refused by different code. */
const CLIENTS: Array<{ label: string; transport: TransportName; engine?: Presented['engine'] }> = [
  { label: 'short polling', transport: 'short-polling' },
  { label: 'long polling', transport: 'long-polling' },
  { label: 'SSE', transport: 'sse' },
  { label: 'WebSocket', transport: 'websocket' },
  { label: 'Socket.IO over polling', transport: 'socket.io', engine: ['polling'] },
  { label: 'Socket.IO over WebSocket', transport: 'socket.io', engine: ['websocket'] },
]
type Client = (typeof CLIENTS)[number]

let server: RunningServer
let tokens: { foreign: string; expired: string }
let observer: WebSocket
const observed: ChatMessage[] = []
let rooms = 0
let names = 0

async function login(url: string, name: string): Promise<string> {
  const res = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: CLASS_CODE, name }),
  })
  if (res.status !== 200) throw new Error(`login refused: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { token: string }).token
}

const goodToken = () => login(server.url, `good-${++names}`)

/** A room of its own for each refused attempt, so that "nobody joined" is the room's member list. */
async function tryIn(client: Client, presented: Presented): Promise<{ outcome: Outcome; room: string }> {
  const room = `refused-${++rooms}`
  const outcome = await attempt(client.transport, server.url, room, { engine: client.engine, ...presented })
  if (outcome.joined) await outcome.close()
  return { outcome, room }
}

/**
 * HTTP, SSE and /ws answer 401 with WWW-Authenticate. Socket.IO, whatever the
 * channel and the Engine.IO transport: a connect_error with data.code, from
 * io.use.
 */
function expectAuthRefusal(client: Client, channel: Channel | undefined, outcome: Outcome, reason: RegExp): void {
  expect(outcome.joined, 'joined').toBe(false)
  const { answers } = outcome as Refused
  expect(answers.length).toBeGreaterThan(0)
  for (const answer of answers) {
    expect(answer, answer.via).toMatchObject({
      code: 'LAB_ERR_AUTH',
      message: expect.stringMatching(reason) as unknown,
    })
    if (client.transport !== 'socket.io')
      expect(answer, answer.via).toMatchObject({ status: 401, wwwAuthenticate: BEARER })
  }
  if (client.transport === 'socket.io') expect(answers[0]!.via, channel).toBe('io.use connect_error')
}

function expectOriginRefusalFrom(origin: string, outcome: Outcome): void {
  expect(outcome.joined, 'joined').toBe(false)
  for (const answer of (outcome as Refused).answers)
    expect(answer, answer.via).toMatchObject({
      status: 403,
      code: 'LAB_ERR_ORIGIN',
      message: expect.stringContaining(`pages from ${origin} may not use this lab`) as unknown,
    })
}

const expectOriginRefusal = (outcome: Outcome) => expectOriginRefusalFrom(EVIL, outcome)

beforeAll(async () => {
  server = await startServer({
    classCode: CLASS_CODE,
    authSecret: SECRET,
    tokenTtlMs: 3_600_000,
    maxClientsPerAddress: 500,
  })
  // Same secret, a one-second life: its tokens are this server's, once good and then expired.
  const shortLived = await startServer({ classCode: CLASS_CODE, authSecret: SECRET, tokenTtlMs: 1000 })
  const expired = await login(shortLived.url, 'late')
  await shortLived.close()
  tokens = {
    foreign: new TokenSigner('another lab, another secret').sign('mallory', 'student', 3_600_000).token,
    expired,
  }
  observer = new WebSocket(`${server.url.replace('http', 'ws')}/ws?room=${ROOM}`, {
    headers: { authorization: `Bearer ${await login(server.url, 'observer')}` },
  })
  let welcomed = false
  observer.on('message', (data) => {
    const message = JSON.parse((data as Buffer).toString()) as ServerMessage
    if (message.type === 'welcome') welcomed = true
    if (message.type === 'message') observed.push(message)
  })
  await until(() => welcomed, "the observer's welcome")
  // Wait for the state, not a time: the server itself says the token has expired.
  await until(async () => {
    const res = await fetch(`${server.url}/api/auth`, { headers: { authorization: `Bearer ${expired}` } })
    const { problem } = (await res.json()) as { problem?: string }
    return problem?.includes('expired')
  }, 'the short-lived token to expire')
}, 30_000)

afterAll(async () => {
  observer?.close()
  await server?.close()
})

describe.each(CLIENTS)('$label', (client) => {
  const channels = CHANNELS[client.transport]

  it('refuses a client without a token with LAB_ERR_AUTH, and nobody joins', async () => {
    const { outcome, room } = await tryIn(client, {})
    expectAuthRefusal(client, undefined, outcome, /needs a token/)
    expect(server.app.hub.members(room)).toEqual([])
  })

  it.each(channels)('refuses a token signed with another secret on the %s channel', async (channel) => {
    const { outcome, room } = await tryIn(client, { token: tokens.foreign, channel })
    expectAuthRefusal(client, channel, outcome, /signature does not match/)
    expect(server.app.hub.members(room)).toEqual([])
  })

  it.each(channels)('refuses an expired token on the %s channel', async (channel) => {
    const { outcome, room } = await tryIn(client, { token: tokens.expired, channel })
    expectAuthRefusal(client, channel, outcome, /expired/)
    expect(server.app.hub.members(room)).toEqual([])
  })

  it.each(channels)(
    'joins with a good token on the %s channel and no Origin, as a script does, and its message reaches the others',
    async (channel) => {
      const name = `good-${++names}`
      const token = await login(server.url, name)
      const outcome = await attempt(client.transport, server.url, ROOM, { token, channel, engine: client.engine })
      if (!outcome.joined) throw new Error(`refused: ${JSON.stringify(outcome.answers)}`)
      expect(outcome.welcome).toMatchObject({ name, room: ROOM })
      const text = `${client.label} over ${channel}`
      await outcome.send(text)
      const got = await until(() => observed.find((m) => m.text === text), `the observer to receive "${text}"`)
      expect(got.from).toMatchObject({ name, transport: client.transport })
      await outcome.close()
    },
  )

  it('refuses a page on another origin with 403 LAB_ERR_ORIGIN, without a token', async () => {
    const { outcome, room } = await tryIn(client, { origin: EVIL })
    expectOriginRefusal(outcome)
    expect(server.app.hub.members(room)).toEqual([])
  })

  it.each(channels)('refuses a page on another origin even with a good token on the %s channel', async (channel) => {
    const { outcome, room } = await tryIn(client, { origin: EVIL, token: await goodToken(), channel })
    expectOriginRefusal(outcome)
    expect(server.app.hub.members(room)).toEqual([])
  })
})

describe('the WebSocket subprotocol channel', () => {
  it('selects "bearer" in the 101 and never echoes the token', async () => {
    const token = await goodToken()
    const outcome = await attempt('websocket', server.url, ROOM, { token, channel: 'subprotocol' })
    if (!outcome.joined) throw new Error(`refused: ${JSON.stringify(outcome.answers)}`)
    expect(outcome.upgrade!.protocol).toBe('bearer')
    const headers = outcome.upgrade!.rawHeaders
    expect(headers[headers.findIndex((h) => h.toLowerCase() === 'sec-websocket-protocol') + 1]).toBe('bearer')
    expect(headers.join('\n')).not.toContain(token)
    expect(headers.join('\n')).not.toContain(token.split('.')[2])
    await outcome.close()
  })
})

describe('ALLOWED_ORIGINS', () => {
  const policies: Array<{ setting: string; allowed: string[]; refused: string[] }> = [
    {
      setting: 'http://a.example:8080',
      allowed: ['http://a.example:8080'],
      refused: ['http://localhost:3000', 'http://127.0.0.1:3000', 'http://a.example', 'https://a.example:8080', EVIL],
    },
    { setting: '*', allowed: [EVIL, 'http://localhost:3000', 'null'], refused: [] },
    {
      setting: '',
      allowed: ['http://localhost:3000', 'http://127.0.0.1:5173'],
      refused: [EVIL, 'http://a.example:8080'],
    },
  ]
  const rows = (allows: boolean) =>
    policies.flatMap(({ setting, allowed, refused }) =>
      (allows ? allowed : refused).map((origin) => ({ setting, shown: setting || '(unset)', origin })),
    )
  let open: Map<string, RunningServer>

  beforeAll(async () => {
    // No class code: only the origin decides.
    open = new Map()
    for (const { setting } of policies)
      open.set(setting, await startServer({ allowedOrigins: setting, maxClientsPerAddress: 500 }))
  })

  afterAll(async () => {
    for (const running of open.values()) await running.close()
  })

  /** Every transport, in a room of its own, from a page on `origin`. */
  async function fromPage(setting: string, origin: string) {
    const running = open.get(setting)!
    const tried = []
    for (const client of CLIENTS) {
      const room = `origin-${++rooms}`
      const outcome = await attempt(client.transport, running.url, room, { origin, engine: client.engine })
      if (outcome.joined) await outcome.close()
      tried.push({ client, outcome, members: running.app.hub.members(room) })
    }
    return tried
  }

  it.each(rows(true))('ALLOWED_ORIGINS=$shown lets a page on $origin join every transport', async (row) => {
    for (const { client, outcome } of await fromPage(row.setting, row.origin))
      expect(outcome.joined, `${client.label}: ${JSON.stringify(outcome)}`).toBe(true)
  })

  it.each(rows(false))(
    'ALLOWED_ORIGINS=$shown refuses a page on $origin with 403 LAB_ERR_ORIGIN on every transport',
    async (row) => {
      for (const { client, outcome, members } of await fromPage(row.setting, row.origin)) {
        expectOriginRefusalFrom(row.origin, outcome)
        expect(members, client.label).toEqual([])
      }
    },
  )
})

describe("an HTTP session is its joiner's", () => {
  it.each(['short-polling', 'long-polling', 'sse'] as const)(
    "%s: another token holder who learned a session's id cannot send through it",
    async (transport) => {
      const joiner = await attempt(transport, server.url, ROOM, { token: await goodToken(), channel: 'authorization' })
      if (!joiner.joined) throw new Error(`refused: ${JSON.stringify(joiner.answers)}`)
      const path = { 'short-polling': '/poll', 'long-polling': '/long-poll', sse: '/sse' }[transport]
      const res = await fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await goodToken()}`,
          'x-lab-session': joiner.welcome.session!,
        },
        body: JSON.stringify({ type: 'send', room: ROOM, text: `through ${joiner.welcome.name}'s session` }),
      })
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({
        code: 'LAB_ERR_AUTH',
        message: expect.stringContaining(`belongs to ${joiner.welcome.name}`) as unknown,
      })
      expect(observed.some((m) => m.text.startsWith('through'))).toBe(false)
      await joiner.close()
    },
  )
})
