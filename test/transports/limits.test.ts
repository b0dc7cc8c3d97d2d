// The limits that keep one client from hurting the others, each said in its
// transport's idiom with a stable code: 429 on HTTP, a close code on the
// WebSocket, connect_error or an error event on Socket.IO.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { io } from 'socket.io-client'
import { closed, welcomed } from '../support/settled.ts'
import { createClient, waitForText, type LabClient } from '../support/clients.ts'
import { TCP_CONNECTIONS_PER_CLIENT_SLOT } from '../../server/app.ts'
import { rawConnect, type RawConnection } from '../support/raw.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const LIMITS = { messageRate: 5, messageBurst: 5, maxClientsPerAddress: 3, maxRoomsPerClient: 3, maxRooms: 20 }
let server: RunningServer
const wsUrl = (query: string) => `${server.url.replace('http', 'ws')}/ws?${query}`
const json = { 'content-type': 'application/json' }
beforeAll(async () => {
  server = await startServer(LIMITS)
})
afterAll(async () => {
  await server.close()
})

/** What the rate lets through since `started`: the burst, and what refilled meanwhile (a loaded machine is slow). */
function allowed(started: number): number {
  return LIMITS.messageBurst + Math.ceil(((performance.now() - started) / 1000) * LIMITS.messageRate)
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve())
    ws.once('error', reject)
  })
}

/** A bystander on another transport who must keep chatting whatever the others do. */
async function bystanderStillChats(room: string, text: string): Promise<void> {
  const bystander: LabClient = createClient('websocket', server.url, 'bystander')
  await bystander.join(room)
  await createClient('short-polling', server.url, 'friend').send(room, text)
  await waitForText(bystander, room, text)
  await bystander.close()
}

describe('the message rate', () => {
  it('refuses a WebSocket flood with LAB_ERR_RATE_LIMIT, then closes it with 1008', async () => {
    const ws = new WebSocket(wsUrl('room=flood-ws&name=flooder'))
    const messages: Array<{ type: string; code?: string; text?: string }> = []
    ws.on('message', (m) => messages.push(JSON.parse((m as Buffer).toString()) as (typeof messages)[number]))
    await opened(ws)
    const gone = closed(ws)
    const started = performance.now()
    for (let i = 0; i < 200; i++) ws.send(JSON.stringify({ type: 'send', room: 'flood-ws', text: `spam ${i}` }))
    expect(await gone).toEqual({ code: 1008, reason: 'LAB_ERR_RATE_LIMIT' })
    expect(messages.some((m) => m.code === 'LAB_ERR_RATE_LIMIT')).toBe(true)
    const history = (await (await fetch(`${server.url}/poll?room=flood-ws&since=0`)).json()) as {
      entries: Array<{ type: string }>
    }
    const published = history.entries.filter((e) => e.type === 'message').length
    expect(published).toBeGreaterThanOrEqual(LIMITS.messageBurst)
    expect(published).toBeLessThanOrEqual(allowed(started))
    await bystanderStillChats('flood-ws', 'still here')
  })

  it('answers a Socket.IO flood with error acks, then disconnects it', async () => {
    const socket = io(server.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      auth: { protocol: 'lab', room: 'flood-sio' },
    })
    await welcomed(socket)
    const errors: string[] = []
    socket.on('error', (e: { code: string }) => errors.push(e.code))
    const gone = new Promise<string>((resolve) => socket.once('disconnect', resolve))
    const started = performance.now()
    const acks = Array.from({ length: 40 }, (_, i) =>
      socket
        .timeout(5000)
        .emitWithAck('send', { room: 'flood-sio', text: `spam ${i}` })
        .catch(() => undefined),
    )
    expect(await gone).toBe('io server disconnect')
    const answered = (await Promise.all(acks)).filter(Boolean) as Array<{ type: string; code?: string }>
    expect(answered.filter((a) => a.type === 'ack').length).toBeLessThanOrEqual(allowed(started))
    expect(answered.some((a) => a.code === 'LAB_ERR_RATE_LIMIT')).toBe(true)
    expect(errors).toContain('LAB_ERR_RATE_LIMIT')
    await bystanderStillChats('flood-sio', 'still here too')
  })

  it('answers HTTP sends over the rate with 429, LAB_ERR_RATE_LIMIT and Retry-After, and hangs up on one that keeps on', async () => {
    const statuses: number[] = []
    const hungUp: number[] = []
    let refused: Response | undefined
    const started = performance.now()
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${server.url}/sse`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ type: 'send', room: 'flood-http', text: `x${i}` }),
      })
      statuses.push(res.status)
      if (res.headers.get('connection') === 'close') hungUp.push(i)
      if (res.status === 429) refused ??= res
      else await res.body?.cancel()
    }
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(allowed(started))
    expect(refused!.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await refused!.json()).toMatchObject({ type: 'error', code: 'LAB_ERR_RATE_LIMIT' })
    // One that keeps sending into the limit pays a new connection for each further try.
    expect(hungUp.length).toBeGreaterThan(0)
    expect(hungUp.every((i) => statuses[i] === 429)).toBe(true)
  })
})

describe('clients per address', () => {
  it('closes the WebSocket over the limit with 1008 LAB_ERR_TOO_MANY_CONNECTIONS', async () => {
    const sockets = Array.from({ length: LIMITS.maxClientsPerAddress }, () => new WebSocket(wsUrl('room=crowd')))
    await Promise.all(sockets.map(opened))
    const extra = new WebSocket(wsUrl('room=crowd'))
    expect(await closed(extra)).toEqual({ code: 1008, reason: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    sockets[0]!.close()
    await closed(sockets[0]!)
    const again = new WebSocket(wsUrl('room=crowd'))
    const first = await new Promise<{ type: string }>((resolve) =>
      again.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()) as { type: string })),
    )
    expect(first.type, 'the place the closed one left is free again').toBe('welcome')
    for (const ws of [...sockets, again]) ws.close()
  })

  it('refuses the Socket.IO connection over the limit with connect_error and the code', async () => {
    const sockets = Array.from({ length: LIMITS.maxClientsPerAddress }, () =>
      io(server.url, { forceNew: true, reconnection: false, auth: { protocol: 'lab', room: 'crowd' } }),
    )
    await Promise.all(sockets.map(welcomed))
    const extra = io(server.url, { forceNew: true, reconnection: false, auth: { protocol: 'lab', room: 'crowd' } })
    const error = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      extra.once('connect_error', resolve),
    )
    expect(error.data).toEqual({ code: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    sockets[0]!.disconnect()
    // The server frees the place when it sees the session close: until then a newcomer is still refused.
    const again = await until(async () => {
      const next = io(server.url, { forceNew: true, reconnection: false, auth: { protocol: 'lab', room: 'crowd' } })
      const ok = await welcomed(next).then(
        () => true,
        () => false,
      )
      if (ok) return next
      next.disconnect()
      return undefined
    }, 'a Socket.IO connection in the place the closed one left')
    for (const s of [...sockets, extra, again]) s.disconnect()
  })

  it('answers the SSE stream over the limit with 429 before any event, and takes the next once one closes', async () => {
    const aborts = Array.from({ length: LIMITS.maxClientsPerAddress }, () => new AbortController())
    const streams = await Promise.all(aborts.map((a) => fetch(`${server.url}/sse?room=crowd`, { signal: a.signal })))
    expect(streams.map((s) => s.status)).toEqual([200, 200, 200])
    const extra = await fetch(`${server.url}/sse?room=crowd`)
    expect(extra.status).toBe(429)
    expect(await extra.json()).toMatchObject({ code: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    const held = () => server.app.wire.snapshot().transports.sse!.requestsHeld
    await until(() => held() === LIMITS.maxClientsPerAddress || undefined, 'the streams to be held')
    aborts[0]!.abort()
    await until(() => held() === LIMITS.maxClientsPerAddress - 1 || undefined, 'the closed stream to be let go')
    const another = new AbortController()
    const again = await fetch(`${server.url}/sse?room=crowd`, { signal: another.signal })
    expect(again.status, 'the place the closed one left is free again').toBe(200)
    ;[...aborts, another].forEach((a) => a.abort())
  })

  it('answers a long poll over the number held with 429', async () => {
    const head = (await (await fetch(`${server.url}/poll?room=held`)).json()) as { seq: number; epoch: string }
    const aborts = Array.from({ length: LIMITS.maxClientsPerAddress }, () => new AbortController())
    const polls = aborts.map((a) =>
      fetch(`${server.url}/long-poll?room=held&since=0&timeout=60000`, { signal: a.signal }).catch(() => undefined),
    )
    await until(
      () =>
        server.app.wire.snapshot().transports['long-polling']!.requestsHeld === LIMITS.maxClientsPerAddress ||
        undefined,
      'the polls to be held',
    )
    const extra = await fetch(`${server.url}/long-poll?room=held&since=${head.seq}&timeout=60000`)
    expect(extra.status).toBe(429)
    expect(await extra.json()).toMatchObject({ code: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    aborts.forEach((a) => a.abort())
    await Promise.all(polls)
  })

  it('gives a held long poll whose client went away its place back', async () => {
    const head = (await (await fetch(`${server.url}/poll?room=left`)).json()) as { seq: number }
    const held = () => server.app.wire.snapshot().transports['long-polling']!.requestsHeld
    const hold = (signal: AbortSignal) =>
      fetch(`${server.url}/long-poll?room=left&since=${head.seq}&timeout=60000`, { signal }).catch(() => undefined)
    const aborts = Array.from({ length: LIMITS.maxClientsPerAddress }, () => new AbortController())
    const polls = aborts.map((a) => hold(a.signal))
    await until(() => held() === LIMITS.maxClientsPerAddress || undefined, 'the polls to be held')
    aborts[0]!.abort()
    await until(() => held() === LIMITS.maxClientsPerAddress - 1 || undefined, 'the abandoned poll to be let go')
    const another = new AbortController()
    polls.push(hold(another.signal))
    await until(() => held() === LIMITS.maxClientsPerAddress || undefined, 'a new poll to be held in its place')
    ;[...aborts, another].forEach((a) => a.abort())
    await Promise.all(polls)
  })

  it('refuses a polling session over the limit with 429, and takes one again once a session is sent away', async () => {
    // Long polling's sessions: no other test here posts to it, so its address is far from the message rate.
    const join = () =>
      fetch(`${server.url}/long-poll`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ type: 'join', room: 'sessions' }),
      })
    const sessions: string[] = []
    for (let i = 0; i < LIMITS.maxClientsPerAddress; i++) {
      const res = await join()
      sessions.push(((await res.json()) as { session: string }).session)
    }
    const extra = await join()
    expect(extra.status).toBe(429)
    expect(await extra.json()).toMatchObject({ code: 'LAB_ERR_TOO_MANY_CONNECTIONS' })
    // A refused join leaves nobody behind.
    const members = (await (await fetch(`${server.url}/api/rooms/sessions/presence`)).json()) as unknown[]
    expect(members).toHaveLength(LIMITS.maxClientsPerAddress)
    // A session sent away (the instructor's disconnect, from this machine) gives its place back: the next join is taken.
    const sentAway = sessions.shift()!
    const disconnected = await fetch(`${server.url}/api/instructor/disconnect`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ clientId: sentAway.slice(0, sentAway.indexOf('.')) }),
    })
    expect(disconnected.status).toBe(200)
    const taken = await join()
    expect(taken.status).toBe(200)
    sessions.push(((await taken.json()) as { session: string }).session)
    expect(await join().then((res) => res.status)).toBe(429)
    for (const session of sessions)
      await fetch(`${server.url}/long-poll`, {
        method: 'POST',
        headers: { ...json, 'x-lab-session': session },
        body: JSON.stringify({ type: 'leave', room: 'sessions' }),
      })
  })
})

describe('rooms', () => {
  it('stops one WebSocket at maxRoomsPerClient rooms, so it cannot fill the server with rooms', async () => {
    const ws = new WebSocket(wsUrl('room=r0&name=collector'))
    const errors: string[] = []
    ws.on('message', (m) => {
      const message = JSON.parse((m as Buffer).toString()) as { type: string; code?: string }
      if (message.type === 'error') errors.push(message.code!)
    })
    await opened(ws)
    for (let i = 1; i <= 4; i++) ws.send(JSON.stringify({ type: 'join', room: `r${i}` }))
    await until(() => errors.length === 2 || undefined, 'two refusals')
    expect(errors).toEqual(['LAB_ERR_TOO_MANY_ROOMS', 'LAB_ERR_TOO_MANY_ROOMS'])
    expect(
      server.app.hub
        .roomSummaries()
        .filter((r) => /^r\d$/.test(r.room))
        .map((r) => r.room)
        .sort(),
    ).toEqual(['r0', 'r1', 'r2'])
    ws.close()
  })

  it("never creates a room for a reader, so reads cannot evict an idle room's history", async () => {
    await createClient('short-polling', server.url, 'writer').send('precious', 'keep me')
    const { epoch } = (await (await fetch(`${server.url}/poll?room=precious`)).json()) as { epoch: string }
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${server.url}/poll?room=probe${i}&since=0`)
      expect(await res.json()).toMatchObject({ type: 'batch', epoch: '', seq: 0, entries: [] })
    }
    const after = (await (await fetch(`${server.url}/poll?room=precious&since=0&epoch=${epoch}`)).json()) as {
      recovered: boolean
      entries: Array<{ text?: string }>
    }
    expect(after.recovered).toBe(true)
    expect(after.entries.map((e) => e.text)).toContain('keep me')
  })

  it('answers a read without a cursor with the newest page only', async () => {
    const writer = createClient('websocket', server.url, 'pager')
    await writer.join('long')
    // Many writers, each under its own rate: the room grows past a page.
    for (let i = 0; i < 150; i++)
      await server.app.hub.publish({ clientId: 'x', name: 'x', transport: 'test' }, 'long', { text: `m${i}` })
    const page = (await (await fetch(`${server.url}/poll?room=long`)).json()) as {
      seq: number
      entries: Array<{ seq: number }>
    }
    expect(page.entries.length).toBe(100)
    expect(page.entries.at(-1)!.seq).toBe(page.seq)
    await writer.close()
  })
})

describe('a read after a cursor', () => {
  let roomy: RunningServer
  beforeAll(async () => {
    // A history longer than a catch-up page, so that the page and not the history is what stops the answer.
    roomy = await startServer({ historyLimit: 1200 })
  })
  afterAll(async () => {
    await roomy.close()
  })

  it('answers a poll that is 1,100 entries behind with 1,000 at once and "more", and the rest on the next', async () => {
    const writer = createClient('websocket', roomy.url, 'catcher')
    const { epoch, seq: start } = await writer.join('behind')
    for (let i = 0; i < 1100; i++)
      await roomy.app.hub.publish({ clientId: 'x', name: 'x', transport: 'test' }, 'behind', { text: `m${i}` })
    type Page = { seq: number; more?: boolean; entries: Array<{ seq: number }> }
    const poll = async (since: number) =>
      (await (await fetch(`${roomy.url}/poll?room=behind&since=${since}&epoch=${epoch}`)).json()) as Page
    const first = await poll(start)
    expect(first.entries).toHaveLength(1000)
    expect(first.more).toBe(true)
    expect(first.seq).toBe(first.entries.at(-1)!.seq)
    const rest = await poll(first.seq)
    expect(rest.entries).toHaveLength(100)
    expect(rest.more).toBeUndefined()
    expect(rest.seq).toBe(start + 1100)
    await writer.close()
  })
})

describe('when every room has members', () => {
  let full: RunningServer
  let holders: WebSocket[] = []
  beforeAll(async () => {
    full = await startServer({ maxRooms: 2 })
    holders = ['a', 'b'].map((room) => new WebSocket(`${full.url.replace('http', 'ws')}/ws?room=${room}`))
    await Promise.all(holders.map(opened))
  })
  afterAll(async () => {
    holders.forEach((ws) => ws.close())
    await full.close()
  })
  const clients = () => full.app.hub.stats().clients

  it('refuses a Socket.IO connection to a new room with connect_error LAB_ERR_ROOM_LIMIT, and stays up', async () => {
    const socket = io(full.url, { forceNew: true, reconnection: false, auth: { protocol: 'lab', room: 'c' } })
    const error = await new Promise<Error & { data?: { code: string } }>((resolve) =>
      socket.once('connect_error', resolve),
    )
    expect(error.data).toEqual({ code: 'LAB_ERR_ROOM_LIMIT' })
    socket.disconnect()
    expect(clients()).toBe(2)
  })

  it('closes a WebSocket to a new room with 1013 LAB_ERR_ROOM_LIMIT, leaving no client behind', async () => {
    const ws = new WebSocket(`${full.url.replace('http', 'ws')}/ws?room=c`)
    expect(await closed(ws)).toEqual({ code: 1013, reason: 'LAB_ERR_ROOM_LIMIT' })
    expect(clients()).toBe(2)
  })

  it('answers an SSE stream to a new room with 503 at once instead of hanging', async () => {
    const res = await fetch(`${full.url}/sse?room=c`)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'LAB_ERR_ROOM_LIMIT' })
    expect(clients()).toBe(2)
  })

  it('answers a polling join to a new room with 503, leaving no session behind', async () => {
    const res = await fetch(`${full.url}/poll`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'join', room: 'c' }),
    })
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ code: 'LAB_ERR_ROOM_LIMIT' })
    expect(clients()).toBe(2)
  })
})

describe('TCP connections per address', () => {
  it('answers a connection over MAX_CLIENTS_PER_ADDRESS x 6 with 429 before any request, and takes the next once one closes', async () => {
    const limit = LIMITS.maxClientsPerAddress * TCP_CONNECTIONS_PER_CLIENT_SLOT
    // Whatever the other tests left open counts too: fill up to the limit, whatever that takes.
    const held: RawConnection[] = []
    for (;;) {
      const conn = await rawConnect(server.port)
      held.push(conn)
      await until(
        () =>
          conn.closed() ||
          conn.received().length > 0 ||
          server.app.wire.connections(1000).length >= held.length ||
          undefined,
        'the connection to be taken or refused',
      )
      if (conn.received().length > 0 || conn.closed()) break
      if (held.length > limit + 5) throw new Error(`more than ${limit} connections were taken`)
    }
    const refused = held.at(-1)!
    await until(() => refused.closed() || undefined, 'the refused connection to close')
    expect(refused.received().toString()).toMatch(
      /^HTTP\/1\.1 429 Too Many Requests\r\n[\s\S]*"code":"LAB_ERR_TOO_MANY_CONNECTIONS"/,
    )
    held[0]!.socket.destroy()
    await until(() => held[0]!.closed() || undefined, 'one to close')
    const res = await fetch(`${server.url}/poll?room=after`)
    expect(res.status).toBe(200)
    held.forEach((c) => c.socket.destroy())
  })
})
