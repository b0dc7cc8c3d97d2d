// The instructor's view: every room's members with their transport,
// connection, bytes and handshake, and a disconnect that ends a client in its
// transport's own idiom while the room sees it leave and keeps its history.
// Without INSTRUCTOR_CODE, for the server's own machine only (test/auth/instructor.test.ts: with one).
import { networkInterfaces } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Batch, ErrorMessage, LogEntry, Welcome } from '../../server/core/protocol.ts'
import { TRANSPORTS, type TransportName } from '../../server/core/names.ts'
import type { StreamTally } from '../../server/wire/meter.ts'
import { createClient, waitForText, type LabClient } from '../support/clients.ts'
import { startServerProcess } from '../support/process.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { requestFrom } from '../support/from-address.ts'
import { until } from '../support/wait.ts'

interface ListedMember {
  clientId: string
  name: string
  transport: string
  connectedAt: number
  connectionId: string | undefined
  bytes: StreamTally | null
  handshake: string | null
}
interface Listing {
  rooms: Array<{ room: string; seq: number; members: ListedMember[] }>
}

let server: RunningServer
const opened: LabClient[] = []
beforeAll(async () => {
  server = await startServer({ maxClientsPerAddress: 0 })
})
afterAll(async () => {
  for (const client of opened) await client.close()
  await server.close()
})

/** This machine's address on its network: a request from it is not the loopback's, as another machine's would not be. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((address) => address?.family === 'IPv4' && !address.internal)?.address

async function listing(): Promise<Listing> {
  const res = await fetch(`${server.url}/api/instructor/rooms`)
  expect(res.status).toBe(200)
  return (await res.json()) as Listing
}

async function membersOf(room: string): Promise<ListedMember[]> {
  return (await listing()).rooms.find((r) => r.room === room)?.members ?? []
}

function disconnect(clientId: string): Promise<Response> {
  return fetch(`${server.url}/api/instructor/disconnect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ clientId }),
  })
}

async function joined(transport: TransportName, room: string, name: string): Promise<[LabClient, Welcome]> {
  const client = createClient(transport, server.url, name)
  opened.push(client)
  return [client, await client.join(room)]
}

/** An SSE stream read as text, as it arrives: the goodbye is in the text, not only in an EventSource's events. */
async function sseStream(
  room: string,
  name: string,
): Promise<{ welcome: Welcome; text: () => string; ended: () => boolean }> {
  const res = await fetch(`${server.url}/sse?room=${room}&name=${name}`)
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let text = ''
  let ended = false
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      text += value
    }
    ended = true
  })()
  const data = await until(() => /event: welcome\ndata: (.*)\n/.exec(text)?.[1], 'the SSE welcome')
  return { welcome: JSON.parse(data) as Welcome, text: () => text, ended: () => ended }
}

/** A polling session's own request: the GET it polls with, or a send. */
async function withSession(
  session: string,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: Batch | ErrorMessage }> {
  const res = await fetch(`${server.url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', 'x-lab-session': session },
  })
  return { status: res.status, body: (await res.json()) as Batch | ErrorMessage }
}

async function pollingJoin(transport: TransportName, room: string, name: string): Promise<Welcome> {
  const path = transport === 'short-polling' ? '/poll' : '/long-poll'
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'join', room, name }),
  })
  expect(res.status).toBe(200)
  return (await res.json()) as Welcome
}

/** The answer is the protocol's error with this status and code. */
function expectRefused(answer: { status: number; body: unknown }, status: number, code: string): void {
  expect({ status: answer.status, body: answer.body }).toMatchObject({ status, body: { type: 'error', code } })
}

/**
 * Per transport: a member named `name` in `room`, and what proves, after the
 * instructor's disconnect, that it was ended in that transport's own idiom.
 */
const targets: Record<
  TransportName,
  (room: string, name: string) => Promise<{ welcome: Welcome; ended(): Promise<void> }>
> = {
  websocket: async (room, name) => {
    const [client, welcome] = await joined('websocket', room, name)
    return {
      welcome,
      ended: async () => {
        // An error message saying why, then close 4001 with the code as its reason.
        const closed = client as LabClient & { closeCode?: number }
        await until(() => closed.closeCode !== undefined, 'the WebSocket to close')
        expect(closed.closeCode).toBe(4001)
        expect(client.errors).toContainEqual(expect.objectContaining({ code: 'LAB_ERR_DISCONNECTED' }))
      },
    }
  },
  'socket.io': async (room, name) => {
    const [client, welcome] = await joined('socket.io', room, name)
    return {
      welcome,
      ended: async () => {
        // An `error` event, then the server's disconnect (no reconnecting by itself after it).
        const socket = (client as LabClient & { socket: { disconnected: boolean } }).socket
        await until(() => socket.disconnected, 'the Socket.IO client to be disconnected')
        expect(client.errors).toContainEqual(expect.objectContaining({ code: 'LAB_ERR_DISCONNECTED' }))
      },
    }
  },
  sse: async (room, name) => {
    const stream = await sseStream(room, name)
    return {
      welcome: stream.welcome,
      ended: async () => {
        // The stream's last event says why, and the server ends the response.
        await until(() => stream.ended(), 'the SSE stream to end')
        const bye = /event: bye\ndata: (.*)\n/.exec(stream.text())?.[1]
        expect(JSON.parse(bye ?? '{}')).toMatchObject({ code: 'LAB_ERR_DISCONNECTED' })
        // Its session's sends are refused from now on.
        const sent = await withSession(stream.welcome.session!, '/sse', {
          method: 'POST',
          body: JSON.stringify({ type: 'send', room, text: 'still here?' }),
        })
        expect(sent.status).toBe(404)
      },
    }
  },
  'long-polling': async (room, name) => {
    const welcome = await pollingJoin('long-polling', room, name)
    const session = welcome.session!
    // A long poll held while the instructor acts.
    const held = withSession(session, `/long-poll?room=${room}&since=${welcome.seq}&epoch=${welcome.epoch}`)
    await until(
      async () =>
        (
          (await (await fetch(`${server.url}/api/wire`)).json()) as {
            transports: Record<string, { requestsHeld: number }>
          }
        ).transports['long-polling']!.requestsHeld > 0,
      'the long poll to be held',
    )
    return {
      welcome,
      ended: async () => {
        // The held poll is answered (with its own leave), and the session's next request is refused saying why.
        const answer = await held
        expect(answer.status).toBe(200)
        const entries = (answer.body as Batch).entries
        expect(
          entries.some((e) => e.type === 'notice' && e.event === 'leave' && e.who.clientId === welcome.clientId),
        ).toBe(true)
        const next = await withSession(session, `/long-poll?room=${room}&since=${(answer.body as Batch).seq}`)
        expectRefused(next, 404, 'LAB_ERR_DISCONNECTED')
      },
    }
  },
  'short-polling': async (room, name) => {
    const welcome = await pollingJoin('short-polling', room, name)
    const session = welcome.session!
    return {
      welcome,
      ended: async () => {
        const poll = await withSession(session, `/poll?room=${room}&since=${welcome.seq}`)
        expectRefused(poll, 404, 'LAB_ERR_DISCONNECTED')
        const sent = await withSession(session, '/poll', {
          method: 'POST',
          body: JSON.stringify({ type: 'send', room, text: 'still here?' }),
        })
        expectRefused(sent, 404, 'LAB_ERR_DISCONNECTED')
      },
    }
  },
}

describe('the instructor view', () => {
  it("lists every member of a room with its transport, its connection, that connection's bytes and a handshake", async () => {
    const before = Date.now()
    const clients = await Promise.all(TRANSPORTS.map((t) => joined(t, 'listed', `ann-${t.replace('.', '')}`)))
    for (const [client] of clients) await client.send('listed', `hello from ${client.transport}`)
    await waitForText(clients[0]![0], 'listed', 'hello from socket.io')

    const members = await until(async () => {
      const listed = await membersOf('listed')
      return listed.length === TRANSPORTS.length && listed.every((m) => (m.bytes?.payloadIn ?? 0) > 0) && listed
    }, "every member's message counted in its connection's bytes")
    for (const [client, welcome] of clients) {
      const member = members.find((m) => m.clientId === welcome.clientId)
      expect(member).toMatchObject({
        name: client.name,
        transport: client.transport,
        connectionId: welcome.connectionId,
      })
      expect(member!.bytes!.bytesIn).toBeGreaterThan(member!.bytes!.payloadIn)
      expect(member!.bytes!.bytesOut).toBeGreaterThan(0)
      expect(member!.connectedAt).toBeGreaterThanOrEqual(before)
      expect(member!.connectedAt).toBeLessThanOrEqual(Date.now())
      const handshake = await fetch(`${server.url}${member!.handshake}`)
      expect(handshake.status).toBe(200)
      expect(Object.keys((await handshake.json()) as object)).toContain(client.transport)
    }
  })

  describe.each(TRANSPORTS)('disconnecting a %s client', (transport) => {
    it('ends it in its own idiom with LAB_ERR_DISCONNECTED; the room sees it leave, keeps its history, and chats on', async () => {
      const room = `kick-${transport.replace('.', '')}`
      const [bystander] = await joined('websocket', room, 'bystander')
      await bystander.send(room, 'before')
      await waitForText(bystander, room, 'before')
      const target = await targets[transport](room, 'ann')
      expect((await membersOf(room)).map((m) => m.clientId)).toContain(target.welcome.clientId)

      const res = await disconnect(target.welcome.clientId)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({
        disconnected: { clientId: target.welcome.clientId, name: 'ann', transport },
        connections: 1,
        tokenRevoked: false,
      })
      await target.ended()

      const leave = (e: LogEntry) =>
        e.type === 'notice' && e.event === 'leave' && e.who.clientId === target.welcome.clientId
      await until(() => bystander.entries.find(leave), 'the bystander to see ann leave')
      expect((await membersOf(room)).map((m) => m.name)).toEqual(['bystander'])
      await bystander.send(room, 'after')
      await waitForText(bystander, room, 'after')
      const history = (await (await fetch(`${server.url}/poll?room=${room}`)).json()) as Batch
      expect(
        history.entries.map((e) => (e.type === 'message' ? e.text : e.type === 'notice' ? e.event : e.type)),
      ).toEqual(['join', 'before', 'join', 'leave', 'after'])
    })
  })

  it('is refused to another machine with 403 LAB_ERR_FORBIDDEN, and the member stays', async () => {
    const [, welcome] = await joined('websocket', 'guarded', 'kept')
    const rooms = await requestFrom(server.port, outside!, 'GET', '/api/instructor/rooms')
    expectRefused(rooms, 403, 'LAB_ERR_FORBIDDEN')
    expect(JSON.stringify(rooms.body)).not.toContain('kept')
    const handshake = await requestFrom(
      server.port,
      outside!,
      'GET',
      `/api/instructor/handshakes/${welcome.connectionId}`,
    )
    expectRefused(handshake, 403, 'LAB_ERR_FORBIDDEN')
    const kick = JSON.stringify({ clientId: welcome.clientId })
    expectRefused(
      await requestFrom(server.port, outside!, 'POST', '/api/instructor/disconnect', kick),
      403,
      'LAB_ERR_FORBIDDEN',
    )
    expect((await membersOf('guarded')).map((m) => m.clientId)).toEqual([welcome.clientId])
    expect((await requestFrom(server.port, '127.0.0.1', 'GET', '/api/instructor/rooms')).status).toBe(200)
  })

  it('answers 404 LAB_ERR_NOT_FOUND for a client or connection it does not know', async () => {
    const res = await disconnect('nobody')
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ type: 'error', code: 'LAB_ERR_NOT_FOUND' })
    const handshake = await fetch(`${server.url}/api/instructor/handshakes/c999999`)
    expect(handshake.status).toBe(404)
    expect(await handshake.json()).toMatchObject({ type: 'error', code: 'LAB_ERR_NOT_FOUND' })
  })

  it('answers bad JSON with 400 LAB_ERR_BAD_JSON and a missing clientId with 400 LAB_ERR_BAD_MESSAGE', async () => {
    const post = (body: string) => requestFrom(server.port, '127.0.0.1', 'POST', '/api/instructor/disconnect', body)
    expectRefused(await post('{"clientId":'), 400, 'LAB_ERR_BAD_JSON')
    expectRefused(await post('{}'), 400, 'LAB_ERR_BAD_MESSAGE')
    expectRefused(await post('{"clientId":""}'), 400, 'LAB_ERR_BAD_MESSAGE')
    const [bystander] = await joined('socket.io', 'after-bad-input', 'bystander')
    await bystander.send('after-bad-input', 'still chatting')
    await waitForText(bystander, 'after-bad-input', 'still chatting')
  })
})

describe('the instructor view, on the server as its own process', () => {
  it('disconnects, refuses bad input and unknown clients, and the process stays up with a bystander chatting', async () => {
    const running = await startServerProcess()
    const clients: LabClient[] = []
    try {
      const join = async (transport: TransportName, name: string) => {
        const client = createClient(transport, running.url, name)
        clients.push(client)
        return [client, await client.join('proc')] as const
      }
      const [bystander] = await join('long-polling', 'bystander')
      const post = (body: string) =>
        fetch(`${running.url}/api/instructor/disconnect`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        })
      for (const transport of ['websocket', 'socket.io'] as const) {
        const [, welcome] = await join(transport, `ann-${transport.replace('.', '')}`)
        expect((await post(JSON.stringify({ clientId: welcome.clientId }))).status).toBe(200)
      }
      expect((await post('{"clientId":')).status).toBe(400)
      expect((await post(JSON.stringify({ clientId: 'nobody' }))).status).toBe(404)

      await bystander.send('proc', 'still here')
      await waitForText(bystander, 'proc', 'still here')
      expect(running.child.exitCode, running.output()).toBeNull()
    } finally {
      for (const client of clients) await client.close()
      running.child.kill('SIGTERM')
      await running.exited
    }
  }, 30_000)
})
