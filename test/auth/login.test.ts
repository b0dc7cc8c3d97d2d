// POST /api/login trades the class code (or the instructor's) and a name for
// a token, handed over twice: in the answer for scripts, and as an HttpOnly
// cookie for a browser's EventSource and WebSocket, which cannot set headers.
// The token carries its name, so a name is one person's until its token
// expires, is given up (logout) or taken away (the instructor's disconnect).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import type { TransportName } from '../../server/core/names.ts'
import { TRANSPORTS } from '../../server/core/names.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { bearer, holdWith, loggedIn, login, type Held } from '../support/token-clients.ts'
import { until } from '../support/wait.ts'

const CLASS_CODE = 'blue-heron'
const INSTRUCTOR_CODE = 'grey-heron-teacher'
const TTL_MS = 90_000

let classed: RunningServer
let open: RunningServer
let instructorOnly: RunningServer
const held: Held[] = []
beforeAll(async () => {
  const secret = { authSecret: 'login-test-secret-0123456' }
  classed = await startServer({
    ...secret,
    classCode: CLASS_CODE,
    instructorCode: INSTRUCTOR_CODE,
    tokenTtlMs: TTL_MS,
    maxClientsPerAddress: 0,
  })
  open = await startServer()
  instructorOnly = await startServer({ ...secret, instructorCode: INSTRUCTOR_CODE })
})
afterAll(async () => {
  for (const client of held) client.close()
  await Promise.all([classed.close(), open.close(), instructorOnly.close()])
})

async function authInfo(url: string, headers: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/api/auth`, { headers })
  expect(res.status).toBe(200)
  return (await res.json()) as Record<string, unknown>
}

describe('POST /api/login', () => {
  it('answers the class code with a token for the name, and sets it as an HttpOnly SameSite=Strict cookie', async () => {
    const before = Date.now()
    const answer = await login(classed.url, CLASS_CODE, 'ann')
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({
      token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/) as unknown,
      expiresAt: expect.any(Number) as unknown,
      name: 'ann',
      role: 'student',
    })
    const expiresAt = answer.body.expiresAt as number
    expect(expiresAt).toBeGreaterThanOrEqual(before + TTL_MS)
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + TTL_MS)
    const [pair, ...attributes] = answer.setCookie!.split(';').map((part) => part.trim())
    expect(pair).toBe(`lab_token=${answer.body.token as string}`)
    expect(attributes.sort()).toEqual(['HttpOnly', `Max-Age=${TTL_MS / 1000}`, 'Path=/', 'SameSite=Strict'])
  })

  it("answers the instructor's code with an instructor's token", async () => {
    const answer = await login(classed.url, INSTRUCTOR_CODE, 'Ms Heron')
    expect(answer).toMatchObject({ status: 200, body: { name: 'Ms Heron', role: 'instructor' } })
  })

  it('refuses a wrong code with 401 LAB_ERR_AUTH and sets no cookie', async () => {
    for (const code of ['blue-hero', 'BLUE-HERON', '', 'blue-heron ']) {
      const answer = await login(classed.url, code, 'bea')
      expect(answer.status).toBe(401)
      expect(answer.body).toMatchObject({
        type: 'error',
        code: 'LAB_ERR_AUTH',
        message: expect.stringMatching(/wrong code/) as unknown,
      })
      expect(answer.setCookie).toBeNull()
    }
  })

  it('says there is no class code to log in with on an open server, and that one joins without', async () => {
    const answer = await login(open.url, 'anything', 'cy')
    expect(answer).toMatchObject({
      status: 401,
      body: { code: 'LAB_ERR_AUTH', message: 'this server has no class code: join without one' },
    })
  })

  it('with only an instructor code, logs the instructor in and tells anyone else to join without a code', async () => {
    expect(await login(instructorOnly.url, INSTRUCTOR_CODE, 'teacher')).toMatchObject({
      status: 200,
      body: { name: 'teacher', role: 'instructor' },
    })
    // The class is open: "wrong code, ask for the class code" would send a student after a code that does not exist.
    expect(await login(instructorOnly.url, CLASS_CODE, 'dee')).toMatchObject({
      status: 401,
      body: { code: 'LAB_ERR_AUTH', message: 'this server has no class code: join without one' },
    })
  })

  it('refuses a body without a code, or with a name the lab does not allow, with 400 and a code', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'eve' }, 'LAB_ERR_BAD_MESSAGE'],
      [{ code: CLASS_CODE }, 'LAB_ERR_BAD_MESSAGE'],
      [{ code: CLASS_CODE, name: '' }, 'LAB_ERR_NAME'],
      [{ code: CLASS_CODE, name: '   ' }, 'LAB_ERR_NAME'],
      [{ code: CLASS_CODE, name: 'x'.repeat(33) }, 'LAB_ERR_NAME'],
      [{ code: CLASS_CODE, name: 'eve\u0000' }, 'LAB_ERR_NAME'],
      ['not json', 'LAB_ERR_BAD_JSON'],
    ]
    for (const [body, code] of cases) {
      const res = await fetch(`${classed.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      })
      const answer: unknown = await res.json()
      expect({ body, status: res.status, answer }).toMatchObject({
        status: 400,
        answer: { type: 'error', code },
      })
    }
  })

  it('names the field a body got wrong and what it expected', async () => {
    const refused = async (body: unknown) => {
      const res = await fetch(`${classed.url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return { status: res.status, answer: (await res.json()) as { code: string; message: string } }
    }
    const missing = await refused({ name: 'eve' })
    expect(missing).toMatchObject({ status: 400, answer: { code: 'LAB_ERR_BAD_MESSAGE' } })
    expect(missing.answer.message).toMatch(/body at \/code: Expected required property/)
    // A number is not coerced to a string: it is refused.
    const number = await refused({ code: 1234, name: 'eve' })
    expect(number).toMatchObject({ status: 400, answer: { code: 'LAB_ERR_BAD_MESSAGE' } })
    expect(number.answer.message).toMatch(/body at \/code: Expected string/)
  })
})

describe('a name held by a token', () => {
  it('is refused to anyone else with 409 LAB_ERR_NAME_TAKEN, however it is capitalised', async () => {
    const fay = await loggedIn(classed.url, CLASS_CODE, 'Fay')
    for (const name of ['Fay', 'fay', 'FAY', ' fay']) {
      const answer = await login(classed.url, CLASS_CODE, name)
      expect(answer).toMatchObject({ status: 409, body: { code: 'LAB_ERR_NAME_TAKEN' } })
      expect(answer.setCookie).toBeNull()
    }
    // Someone else's token is no claim to it either.
    const gus = await loggedIn(classed.url, CLASS_CODE, 'gus')
    expect((await login(classed.url, CLASS_CODE, 'fay', gus.token)).status).toBe(409)
    expect(fay.name).toBe('Fay')
  })

  it("may be logged in again by its holder's own token (a second tab, a renewal)", async () => {
    const hal = await loggedIn(classed.url, CLASS_CODE, 'hal')
    const again = await login(classed.url, CLASS_CODE, 'Hal', hal.token)
    expect(again).toMatchObject({ status: 200, body: { name: 'Hal', role: 'student' } })
    expect(again.body.token).not.toBe(hal.token)
  })

  it('is free again once its holder logs out, and the logged-out token is refused', async () => {
    const ida = await loggedIn(classed.url, CLASS_CODE, 'ida')
    expect((await login(classed.url, CLASS_CODE, 'ida')).status).toBe(409)
    const res = await fetch(`${classed.url}/api/logout`, { method: 'POST', headers: bearer(ida.token) })
    expect(res.headers.get('set-cookie')).toMatch(/^lab_token=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/)
    expect(await res.json()).toEqual({ loggedOut: true, name: 'ida' })
    expect(await authInfo(classed.url, bearer(ida.token))).toMatchObject({
      session: null,
      problem: 'the token was revoked: log in again',
    })
    expect(await login(classed.url, CLASS_CODE, 'Ida')).toMatchObject({ status: 200, body: { name: 'Ida' } })
  })

  it('is free again once the instructor disconnects its holder, whose token is refused from then on', async () => {
    const jo = await loggedIn(classed.url, CLASS_CODE, 'jo')
    const teacher = await loggedIn(classed.url, INSTRUCTOR_CODE, 'teacher-for-jo')
    const client = await holdWith('websocket', { url: classed.url, room: 'names', token: jo.token })
    held.push(client)
    expect((await login(classed.url, CLASS_CODE, 'jo')).status).toBe(409)

    const res = await fetch(`${classed.url}/api/instructor/disconnect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(teacher.token) },
      body: JSON.stringify({ clientId: client.welcome.clientId }),
    })
    expect(await res.json()).toMatchObject({ connections: 1, tokenRevoked: true })
    await until(() => client.ended(), 'the WebSocket to be closed')
    expect((await authInfo(classed.url, bearer(jo.token))).session).toBeNull()
    expect(await login(classed.url, CLASS_CODE, 'JO')).toMatchObject({ status: 200, body: { name: 'JO' } })
  })
  it('is held again by its token on a server restarted with the same AUTH_SECRET, once the token comes back', async () => {
    const settings = { classCode: CLASS_CODE, authSecret: 'restart-test-secret-0123' }
    const first = await startServer(settings)
    const max = await loggedIn(first.url, CLASS_CODE, 'max')
    await first.close()
    const second = await startServer(settings)
    try {
      // The restarted server never saw the login; the token is good all the same, and with it the claim to the name.
      expect(await authInfo(second.url, bearer(max.token))).toMatchObject({ session: { name: 'max' } })
      expect(await login(second.url, CLASS_CODE, 'Max')).toMatchObject({
        status: 409,
        body: { code: 'LAB_ERR_NAME_TAKEN' },
      })
    } finally {
      await second.close()
    }
  })
})

describe('GET /api/auth', () => {
  it('says whether codes are needed, which origins may connect, and nobody is logged in', async () => {
    expect(await authInfo(classed.url)).toMatchObject({
      classCode: true,
      instructorCode: true,
      origins: "this machine's own names and addresses, any port",
      session: null,
    })
    expect(await authInfo(open.url)).toMatchObject({ classCode: false, instructorCode: false, session: null })
    expect(await authInfo(instructorOnly.url)).toMatchObject({ classCode: false, instructorCode: true })
  })

  it('names the session a token opens, and the channel it came on', async () => {
    const kim = await loggedIn(classed.url, CLASS_CODE, 'kim')
    const session = { name: 'kim', role: 'student', expiresAt: kim.expiresAt }
    expect(await authInfo(classed.url, bearer(kim.token))).toMatchObject({
      session: { ...session, channel: 'authorization' },
    })
    expect(await authInfo(classed.url, { cookie: `lab_token=${kim.token}` })).toMatchObject({
      session: { ...session, channel: 'cookie' },
    })
    const res = await fetch(`${classed.url}/api/auth?token=${kim.token}`)
    expect(await res.json()).toMatchObject({ session: { ...session, channel: 'query' } })
  })

  it('says what is wrong with a token it cannot take', async () => {
    const kim = await loggedIn(classed.url, CLASS_CODE, 'kim-2')
    const tampered = kim.token.slice(0, -2) + (kim.token.endsWith('AA') ? 'BB' : 'AA')
    expect(await authInfo(classed.url, bearer(tampered))).toMatchObject({
      session: null,
      problem: expect.stringMatching(/signature/) as unknown,
    })
    expect(await authInfo(classed.url, bearer('not-a-token'))).toMatchObject({
      session: null,
      problem: expect.stringMatching(/not a JWT/) as unknown,
    })
  })
})

describe("a token's name", () => {
  /** How each transport answers a join under a name other than the token's. */
  const joinAs: Record<TransportName, (token: string, name: string) => Promise<string>> = {
    'short-polling': (token, name) => httpJoin('/poll', token, name),
    'long-polling': (token, name) => httpJoin('/long-poll', token, name),
    sse: async (token, name) => {
      const res = await fetch(`${classed.url}/sse?room=names&name=${encodeURIComponent(name)}`, {
        headers: bearer(token),
      })
      if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
        await res.body?.cancel()
        return 'joined'
      }
      return `${res.status} ${((await res.json()) as { code: string }).code}`
    },
    websocket: (token, name) =>
      new Promise((resolve) => {
        const socket = new WebSocket(`${classed.url.replace('http', 'ws')}/ws?room=names&name=${name}`, {
          headers: bearer(token),
        })
        socket.on('message', (data) => {
          const message = JSON.parse((data as Buffer).toString()) as { type: string; code?: string }
          if (message.type === 'welcome') {
            socket.close()
            resolve('joined')
          }
        })
        socket.on('close', (code, reason) => resolve(`${code} ${reason.toString()}`))
      }),
    'socket.io': (token, name) =>
      new Promise((resolve) => {
        const socket = io(classed.url, {
          forceNew: true,
          reconnection: false,
          auth: { protocol: 'lab', room: 'names', name, token },
        })
        socket.on('welcome', () => {
          socket.close()
          resolve('joined')
        })
        socket.on('connect_error', (error: Error & { data?: { code?: string } }) => resolve(`${error.data?.code}`))
      }),
  }

  async function httpJoin(path: string, token: string, name: string): Promise<string> {
    const res = await fetch(`${classed.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: JSON.stringify({ type: 'join', room: 'names', name }),
    })
    return res.status === 200 ? 'joined' : `${res.status} ${((await res.json()) as { code: string }).code}`
  }

  const refusedAs: Record<TransportName, string> = {
    'short-polling': '401 LAB_ERR_AUTH',
    'long-polling': '401 LAB_ERR_AUTH',
    sse: '401 LAB_ERR_AUTH',
    websocket: '1008 LAB_ERR_AUTH',
    'socket.io': 'LAB_ERR_AUTH',
  }

  for (const transport of TRANSPORTS) {
    it(`wins on ${transport}: joining under another name is refused, under its own it joins`, async () => {
      const lou = await loggedIn(classed.url, CLASS_CODE, `lou-${transport}`)
      expect(await joinAs[transport](lou.token, 'somebody-else')).toBe(refusedAs[transport])
      expect(await joinAs[transport](lou.token, lou.name)).toBe('joined')
    })
  }
})
