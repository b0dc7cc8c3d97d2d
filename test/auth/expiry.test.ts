// A token is good for TOKEN_TTL_MS, and until its holder logs out or the
// instructor revokes it. When it stops being good, every live connection that
// came with it ends in its transport's own idiom, and a client that resumes
// (a cursor, Last-Event-ID) is asked for a good token again, not waved in as
// the member it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Cursor, ErrorMessage, LogEntry } from '../../server/core/protocol.ts'
import { TRANSPORTS, type TransportName } from '../../server/core/names.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { bearer, holdWith, loggedIn, login, type Held, type Session } from '../support/token-clients.ts'
import { until } from '../support/wait.ts'

const CODE = 'c0de-for-expiry'
/** Long enough to log in and connect five clients, short enough to watch it run out. */
const SHORT_TTL_MS = 3000

let shortLived: RunningServer
let longLived: RunningServer
const held: Held[] = []
beforeAll(async () => {
  const settings = { classCode: CODE, authSecret: 'expiry-test-secret-0123', maxClientsPerAddress: 0 }
  shortLived = await startServer({ ...settings, tokenTtlMs: SHORT_TTL_MS })
  longLived = await startServer(settings)
})
afterAll(async () => {
  for (const client of held) client.close()
  await shortLived.close()
  await longLived.close()
})

async function hold(transport: TransportName, url: string, room: string, token: string, after?: Cursor) {
  const client = await holdWith(transport, { url, room, token, after })
  held.push(client)
  return client
}

/** A message from another token holder, sent the way a script would: a POST with its Bearer token. */
async function say(url: string, token: string, room: string, text: string): Promise<number> {
  const res = await fetch(`${url}/poll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...bearer(token) },
    body: JSON.stringify({ type: 'send', room, text }),
  })
  const ack = (await res.json()) as { seq: number }
  expect(res.status).toBe(200)
  return ack.seq
}

async function logout(url: string, token: string): Promise<void> {
  const res = await fetch(`${url}/api/logout`, { method: 'POST', headers: bearer(token) })
  expect(await res.json()).toMatchObject({ loggedOut: true })
}

/** What each transport shows once its token is no longer good, checked on a client that held it. */
function expectEndedForAuth(client: Held): void {
  const authError: unknown = expect.objectContaining({ code: 'LAB_ERR_AUTH' })
  switch (client.transport) {
    case 'websocket':
      expect(client.errors).toContainEqual(authError)
      expect(client.ended()).toEqual({ kind: 'websocket', code: 1008, reason: 'LAB_ERR_AUTH' })
      break
    case 'sse':
      // The goodbye says why; EventSource reopens the stream, is refused, and stops for good.
      expect(client.errors).toContainEqual(authError)
      expect(client.ended()).toEqual({ kind: 'sse', status: 401 })
      break
    case 'socket.io':
      expect(client.errors).toContainEqual(authError)
      expect(client.ended()).toEqual({ kind: 'socket.io', reason: 'io server disconnect' })
      break
    case 'short-polling':
    case 'long-polling':
      expect(client.ended()).toMatchObject({ kind: 'polling', status: 401, body: { code: 'LAB_ERR_AUTH' } })
      break
  }
}

/** The room's entries from the one after the cursor on, one after another up to and past `upTo`: nothing missed. */
function expectNoGap(entries: LogEntry[], after: Cursor, upTo: number): void {
  const seqs = entries.filter((e) => e.epoch === after.epoch).map((e) => e.seq)
  expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => after.seq + 1 + i))
  expect(seqs).toContain(upTo)
}

describe('a token that expires', () => {
  it('ends a client on each of the five transports in its own idiom', async () => {
    const ann = await loggedIn(shortLived.url, CODE, 'ann')
    const clients = await Promise.all(TRANSPORTS.map((t) => hold(t, shortLived.url, 'expiry', ann.token)))
    for (const client of clients) expect(client.welcome.recovered).toBe(true)
    await until(
      () => clients.every((c) => c.ended() !== undefined),
      'every transport to end its client',
      SHORT_TTL_MS + 8000,
    )
    expect(Date.now()).toBeGreaterThanOrEqual(ann.expiresAt)
    for (const client of clients) expectEndedForAuth(client)
    // Nobody holds the name any more: someone else may log in under it.
    expect((await login(shortLived.url, CODE, 'Ann')).status).toBe(200)
  })

  it('is refused at the next poll with 401 and how to get a new one', async () => {
    const bo = await loggedIn(shortLived.url, CODE, 'bo')
    const poller = await hold('long-polling', shortLived.url, 'expiry-poll', bo.token)
    await until(() => poller.ended(), 'the long poller to be refused', SHORT_TTL_MS + 5000)
    const res = await fetch(`${shortLived.url}/long-poll?room=expiry-poll`, {
      headers: { ...bearer(bo.token), 'x-lab-session': poller.welcome.session ?? '' },
    })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="transport-lab"')
    expect(((await res.json()) as ErrorMessage).message).toMatch(/expired/)
  })
})

describe('a resume re-checks the token', () => {
  const RESUMING: TransportName[] = ['websocket', 'sse', 'socket.io']

  for (const transport of RESUMING) {
    it(`${transport}: a revoked token cannot resume; a fresh one resumes with recovered: true and no gap`, async () => {
      const { url } = longLived
      const room = `revoked-${transport.replace('.', '')}`
      const speaker = await loggedIn(url, CODE, `speaker-${room}`)
      const cy = await loggedIn(url, CODE, `cy-${room}`)
      const before = await hold(transport, url, room, cy.token)
      await say(url, speaker.token, room, 'one')
      await until(() => before.entries.some((e) => e.type === 'message'), 'the first message')
      const last = before.entries.at(-1)!
      const cursor = { seq: last.seq, epoch: last.epoch }

      await logout(url, cy.token)
      await until(() => before.ended() ?? (before.transport === 'sse' && before.errors.length > 0), 'the logout')
      expect(before.errors).toContainEqual(expect.objectContaining({ code: 'LAB_ERR_AUTH', message: 'you logged out' }))
      await say(url, speaker.token, room, 'two')
      await expectResumedOnlyAfresh(transport, url, room, cy, cursor, await say(url, speaker.token, room, 'three'))
    })

    it(`${transport}: an expired token cannot resume; a fresh one resumes with recovered: true and no gap`, async () => {
      const { url } = shortLived
      const room = `expired-${transport.replace('.', '')}`
      const di = await loggedIn(url, CODE, `di-${room}`)
      const before = await hold(transport, url, room, di.token)
      const cursor = { seq: before.welcome.seq, epoch: before.welcome.epoch }
      await until(() => before.ended(), 'the token to expire', SHORT_TTL_MS + 8000)
      const speaker = await loggedIn(url, CODE, `speaker-${room}`)
      await say(url, speaker.token, room, 'two')
      await expectResumedOnlyAfresh(transport, url, room, di, cursor, await say(url, speaker.token, room, 'three'))
    })
  }
})

/**
 * A resume from `cursor` with the stale token is refused in the transport's
 * way; the same person logged in afresh resumes there with nothing missed up
 * to `lastSeq`.
 */
async function expectResumedOnlyAfresh(
  transport: TransportName,
  url: string,
  room: string,
  stale: Session,
  cursor: Cursor,
  lastSeq: number,
): Promise<void> {
  await expect(hold(transport, url, room, stale.token, cursor)).rejects.toThrow(
    transport === 'socket.io' ? /LAB_ERR_AUTH/ : /HTTP 401/,
  )
  const fresh = await loggedIn(url, CODE, stale.name)
  const after = await hold(transport, url, room, fresh.token, cursor)
  expect(after.welcome.recovered).toBe(true)
  await until(() => after.entries.some((e) => e.seq === lastSeq), 'what it missed')
  expectNoGap(after.entries, cursor, lastSeq)
}
