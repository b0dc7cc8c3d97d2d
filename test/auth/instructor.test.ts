// With an INSTRUCTOR_CODE, acting for the whole class (resetting everyone's
// counters, every client's handshakes, the Instructor tab's view, sending a
// client away, broadcasting) takes the instructor's token, on whichever
// channel it comes and from whichever machine: the loopback rule is for a
// lab without codes (test/server/instructor.test.ts keeps that one).
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ChatMessage, ErrorMessage } from '../../server/core/protocol.ts'
import { TRANSPORTS } from '../../server/core/names.ts'
import { requestFrom } from '../support/from-address.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { bearer, holdWith, loggedIn, login, type Held, type Session } from '../support/token-clients.ts'
import { until } from '../support/wait.ts'

const CLASS_CODE = 'otter-7'
const INSTRUCTOR_CODE = 'otter-7-teacher'

let server: RunningServer
let teacher: Session
let student: Session
const held: Held[] = []
beforeAll(async () => {
  server = await startServer({
    classCode: CLASS_CODE,
    instructorCode: INSTRUCTOR_CODE,
    authSecret: 'instructor-test-secret-01',
    maxClientsPerAddress: 0,
  })
  teacher = await loggedIn(server.url, INSTRUCTOR_CODE, 'Mr Otter')
  student = await loggedIn(server.url, CLASS_CODE, 'pupil')
})
afterAll(async () => {
  for (const client of held) client.close()
  await server.close()
})

/** This machine's address on its network: a request from it comes from another machine as far as the server can tell. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address

async function hold(transport: (typeof TRANSPORTS)[number], room: string, token: string): Promise<Held> {
  const client = await holdWith(transport, { url: server.url, room, token })
  held.push(client)
  return client
}

/** Each instructor action, asked with `headers` (and `query` on its URL); its status and body. */
const ACTIONS: Array<{ what: string; method: string; path: string; body?: unknown; done: number }> = [
  { what: 'reset the counters', method: 'POST', path: '/api/wire/reset', done: 200 },
  { what: "every client's handshakes", method: 'GET', path: '/api/wire/handshakes', done: 200 },
  { what: 'the rooms and members', method: 'GET', path: '/api/instructor/rooms', done: 200 },
  // A client nobody has: 404 is the answer once the instructor is let through.
  { what: 'disconnect', method: 'POST', path: '/api/instructor/disconnect', body: { clientId: 'nobody' }, done: 404 },
  {
    what: 'broadcast',
    method: 'POST',
    path: '/api/instructor/broadcast',
    body: { room: 'staffroom', text: 'test' },
    done: 200,
  },
]

async function act(
  action: (typeof ACTIONS)[number],
  headers: Record<string, string> = {},
  query = '',
): Promise<{ status: number; body: Record<string, unknown>; challenge: string | null }> {
  const res = await fetch(`${server.url}${action.path}${query}`, {
    method: action.method,
    headers: { ...(action.body ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(action.body ? { body: JSON.stringify(action.body) } : {}),
  })
  return {
    status: res.status,
    body: (await res.json()) as Record<string, unknown>,
    challenge: res.headers.get('www-authenticate'),
  }
}

describe('with INSTRUCTOR_CODE, the instructor actions', () => {
  for (const action of ACTIONS) {
    it(`${action.what}: 401 without a token, 403 with a student's, done with the instructor's on any channel`, async () => {
      const none = await act(action)
      expect(none).toMatchObject({ status: 401, body: { code: 'LAB_ERR_AUTH' } })
      expect(none.challenge).toBe('Bearer realm="transport-lab"')
      expect(await act(action, bearer(student.token))).toMatchObject({
        status: 403,
        body: { code: 'LAB_ERR_FORBIDDEN', message: "pupil's token is a student's: this needs the instructor's" },
      })
      expect(await act(action, bearer('forged.token.here'))).toMatchObject({
        status: 401,
        body: { code: 'LAB_ERR_AUTH' },
      })
      for (const [channel, answer] of [
        ['authorization', await act(action, bearer(teacher.token))],
        ['cookie', await act(action, { cookie: `lab_token=${teacher.token}` })],
        ['query', await act(action, {}, `?token=${teacher.token}`)],
      ] as const)
        expect({ channel, status: answer.status }).toEqual({ channel, status: action.done })
    })
  }

  it.skipIf(!outside)('are done for the instructor on another machine, and refused there to others', async () => {
    const from = (path: string, headers: Record<string, string>, method = 'GET', body?: unknown) =>
      requestFrom(server.port, outside!, method, path, body === undefined ? undefined : JSON.stringify(body), headers)
    expect((await from('/api/instructor/rooms', {})).body).toMatchObject({ code: 'LAB_ERR_AUTH' })
    expect((await from('/api/instructor/rooms', bearer(student.token))).status).toBe(403)
    expect((await from('/api/instructor/rooms', bearer(teacher.token))).status).toBe(200)
    expect((await from('/api/wire/handshakes', bearer(teacher.token))).status).toBe(200)
    expect((await from('/api/wire/reset', { cookie: `lab_token=${teacher.token}` }, 'POST')).status).toBe(200)
    const broadcast = await from('/api/instructor/broadcast', bearer(teacher.token), 'POST', {
      room: 'staffroom',
      text: 'from the back of the room',
    })
    expect(broadcast).toMatchObject({ status: 200, body: { type: 'ack', room: 'staffroom' } })
  })
})

describe("the instructor's broadcast", () => {
  it('reaches a client on each of the five transports, at the same seq, from the instructor', async () => {
    const clients: Held[] = []
    for (const transport of TRANSPORTS) {
      const pupil = await loggedIn(server.url, CLASS_CODE, `listener-${transport}`)
      clients.push(await hold(transport, 'announcements', pupil.token))
    }
    const res = await fetch(`${server.url}/api/instructor/broadcast`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(teacher.token) },
      body: JSON.stringify({ room: 'announcements', text: 'Five minutes left' }),
    })
    const ack = (await res.json()) as { seq: number; room: string }
    expect(ack).toMatchObject({ type: 'ack', room: 'announcements', seq: expect.any(Number) as unknown })
    for (const client of clients) {
      const heard = await until(
        () => client.entries.find((e): e is ChatMessage => e.type === 'message' && e.text === 'Five minutes left'),
        `${client.transport} to hear the broadcast`,
      )
      expect({ transport: client.transport, seq: heard.seq, from: heard.from }).toEqual({
        transport: client.transport,
        seq: ack.seq,
        from: { clientId: 'instructor', name: 'Mr Otter', transport: 'server' },
      })
    }
  })
})

describe("the instructor's disconnect of a token holder", () => {
  it('ends every connection holding the token, on every transport, and the token with them; the name is free', async () => {
    const name = 'many-tabs'
    const holder = await loggedIn(server.url, CLASS_CODE, name)
    const clients: Held[] = []
    for (const transport of TRANSPORTS) clients.push(await hold(transport, 'lesson', holder.token))
    const sse = clients.find((c) => c.transport === 'sse')!

    const res = await fetch(`${server.url}/api/instructor/disconnect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(teacher.token) },
      body: JSON.stringify({ clientId: sse.welcome.clientId }),
    })
    expect(await res.json()).toEqual({
      disconnected: { clientId: sse.welcome.clientId, name, transport: 'sse' },
      connections: TRANSPORTS.length,
      tokenRevoked: true,
    })
    await until(() => clients.every((c) => c.ended()), 'every connection to end')
    const told = expect.objectContaining({ code: 'LAB_ERR_DISCONNECTED' }) as unknown
    for (const client of clients) {
      const ending = client.ended()
      switch (client.transport) {
        case 'websocket':
          expect(ending).toEqual({ kind: 'websocket', code: 4001, reason: 'LAB_ERR_DISCONNECTED' })
          expect(client.errors).toContainEqual(told)
          break
        case 'sse':
          // Told why in its goodbye; EventSource's reconnect is refused, the token being revoked.
          expect(client.errors).toContainEqual(told)
          expect(ending).toEqual({ kind: 'sse', status: 401 })
          break
        case 'socket.io':
          expect(client.errors).toContainEqual(told)
          expect(ending).toEqual({ kind: 'socket.io', reason: 'io server disconnect' })
          break
        default:
          // A held long poll is answered with the reason; a short poller learns it at its next poll.
          expect(ending).toMatchObject({
            kind: 'polling',
            body: { code: expect.stringMatching(/LAB_ERR_(DISCONNECTED|AUTH)/) as unknown },
          })
      }
    }

    const after = { seq: clients[0]!.welcome.seq, epoch: clients[0]!.welcome.epoch }
    for (const transport of ['websocket', 'sse', 'socket.io'] as const)
      await expect(
        holdWith(transport, { url: server.url, room: 'lesson', token: holder.token, after }),
      ).rejects.toThrow(transport === 'socket.io' ? /LAB_ERR_AUTH/ : /HTTP 401/)
    const poll = await fetch(`${server.url}/poll?room=lesson`, { headers: bearer(holder.token) })
    expect(poll.status).toBe(401)
    expect(((await poll.json()) as ErrorMessage).message).toBe('the token was revoked: log in again')

    expect(await login(server.url, CLASS_CODE, name)).toMatchObject({ status: 200, body: { name } })
  })
})
