// The Redis log under the conditions a class meets: a copy that starts while
// messages flow, a subscription that drops, Redis losing its data or going
// away, a server that dies, and a Redis that is not there at start. Real
// redis-server, real servers, real clients.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Redis } from 'ioredis'
import { io } from 'socket.io-client'
import type { TransportName } from '../../server/core/protocol.ts'
import { createClient, messagesIn, waitForText, type LabClient } from '../support/clients.ts'
import { runServerCommand, startServerProcess } from '../support/process.ts'
import { appendUnheard, requireBinary, startRedis, type RunningRedis } from '../support/redis.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { until } from '../support/wait.ts'

const hasRedis = requireBinary('redis-server', 'redis-server')
let redis: RunningRedis
let a: RunningServer
let b: RunningServer
let admin: Redis
const clients: LabClient[] = []
const client = (...args: Parameters<typeof createClient>) => {
  const made = createClient(...args)
  clients.push(made)
  return made
}

/** A client on `transport` joins `room` on `server`, says `text` and waits to see it come back. */
async function said(transport: TransportName, server: RunningServer, name: string, room: string, text: string) {
  const speaker = client(transport, server.url, name)
  await speaker.join(room)
  await speaker.send(room, text)
  return { speaker, message: await waitForText(speaker, room, text) }
}

/** Each message's seq, and whether the list runs without a gap or a repeat. */
function contiguous(list: LabClient, room: string): boolean {
  const seqs = messagesIn(list, room).map((m) => m.seq)
  return seqs.every((seq, i) => i === 0 || seq > seqs[i - 1]!) && new Set(seqs).size === seqs.length
}

describe.skipIf(!hasRedis)('the shared log', () => {
  beforeAll(async () => {
    redis = await startRedis()
    admin = new Redis(redis.url)
    admin.on('error', () => {})
    // Floods below are the point of some tests: no message rate limit.
    const unlimited = { messageRate: 0, messageBurst: 1000 }
    a = await startServer({ redisUrl: redis.url, instanceId: 'a', ...unlimited })
    b = await startServer({ redisUrl: redis.url, instanceId: 'b', ...unlimited })
  })
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})))
  })
  afterAll(async () => {
    admin?.disconnect()
    await a?.close()
    await b?.close()
    await redis?.stop()
  })

  it('resumes on server B from a cursor taken on server A, with every message missed', async () => {
    const room = 'resume-across'
    const { speaker: ann, message: last } = await said('websocket', a, 'ann', room, 'before')
    await ann.close()
    const sender = client('short-polling', a.url, 'sam')
    for (const text of ['missed 1', 'missed 2', 'missed 3']) await sender.send(room, text)
    const back = client('sse', b.url, 'ann')
    const welcome = await back.join(room, { seq: last.seq, epoch: last.epoch })
    expect(welcome).toMatchObject({ recovered: true, instance: 'b', epoch: last.epoch })
    for (const text of ['missed 1', 'missed 2', 'missed 3']) await waitForText(back, room, text)
    expect(contiguous(back, room)).toBe(true)
  })

  it("lists a room's members on a server none of them is on, from the shared presence", async () => {
    const room = 'members-elsewhere'
    const ann = client('sse', a.url, 'ann')
    const { clientId } = await ann.join(room)
    const presence = (await fetch(`${b.url}/api/rooms/${room}/presence`).then((r) => r.json())) as Array<{
      clientId: string
      instance: string
    }>
    expect(presence).toEqual([expect.objectContaining({ clientId, instance: 'a' })])
  })

  it('answers the presence of a name that is no room with a 400, and follows nothing', async () => {
    const before = (await fetch(`${b.url}/api/rooms`).then((r) => r.json())) as unknown[]
    const response = await fetch(`${b.url}/api/rooms/${encodeURIComponent('no room!')}/presence`)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ code: 'LAB_ERR_BAD_MESSAGE' })
    expect(await fetch(`${b.url}/api/rooms`).then((r) => r.json())).toHaveLength(before.length)
  })

  it('a server that starts following a room while messages flow misses none and repeats none', async () => {
    const room = 'busy-room'
    const sender = client('websocket', a.url, 'flood')
    await sender.join(room)
    const sends = Array.from({ length: 150 }, (_, i) => sender.send(room, `m${i}`))
    // Joins B while the sends are still going out: B reads the log as entries keep arriving. A bare
    // WebSocket, so that every frame counts (the test clients drop repeats).
    await waitForText(sender, room, 'm20')
    const frames: Array<{ type: string; seq: number; text?: string }> = []
    const late = new WebSocket(`${b.url.replace('http', 'ws')}/ws?room=${room}&name=late&since=0`)
    late.on('message', (data) => frames.push(JSON.parse((data as Buffer).toString()) as (typeof frames)[number]))
    try {
      await Promise.all(sends)
      await until(() => frames.some((f) => f.text === 'm149'), 'the last message on B')
      const texts = frames.filter((f) => f.type === 'message').map((f) => f.text)
      expect(texts).toEqual(Array.from({ length: 150 }, (_, i) => `m${i}`))
      const seqs = frames.filter((f) => f.type !== 'welcome').map((f) => f.seq)
      expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y))
    } finally {
      late.close()
    }
  })

  it('holds an entry that arrives after a hole until the hole is filled from the streams', async () => {
    const room = 'hole'
    const reader = client('websocket', b.url, 'reader')
    await reader.join(room)
    const writer = client('short-polling', a.url, 'writer')
    await writer.join(room)
    // Server B's subscription never carries these two, as when it was down.
    for (const text of ['unseen 1', 'unseen 2'])
      await appendUnheard(admin, room, 'message', {
        from: { clientId: 'x', name: 'ghost', transport: 'websocket' },
        text,
        serverAt: Date.now(),
      })
    await writer.send(room, 'after the hole')
    await waitForText(reader, room, 'after the hole')
    expect(messagesIn(reader, room).map((m) => m.text)).toEqual(['unseen 1', 'unseen 2', 'after the hole'])
    expect(contiguous(reader, room)).toBe(true)
  })

  it('delivers what was sent while a server had lost its subscription, once it is back', async () => {
    const room = 'dropped-subscription'
    const sender = client('websocket', a.url, 'sender')
    const reader = client('socket.io', b.url, 'reader')
    await sender.join(room)
    await reader.join(room)
    for (let i = 0; i < 20; i++) await sender.send(room, `s${i}`)
    await waitForText(reader, room, 's19')
    // Drops server B's subscription; ioredis reconnects and re-subscribes after 100 ms. The next sends go out
    // meanwhile, and nothing is sent after them: only catching up on reconnecting brings them to B.
    const list = (await admin.client('LIST')) as string
    const id = /id=(\d+) .*name=lab:b:sub /.exec(list)?.[1]
    expect(id).toBeDefined()
    await admin.client('KILL', 'ID', id!)
    await Promise.all(Array.from({ length: 10 }, (_, i) => sender.send(room, `s${20 + i}`)))
    await waitForText(reader, room, 's29', 10_000)
    expect(messagesIn(reader, room).map((m) => m.text)).toEqual(Array.from({ length: 30 }, (_, i) => `s${i}`))
    expect(contiguous(reader, room)).toBe(true)
  })

  it("takes a Socket.IO client's events in turn: a send right after its join reaches the room it joined", async () => {
    // With Redis a join waits for the log, so a send taken at once would be published before the joiner is in.
    const socket = io(a.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
      auth: { protocol: 'lab', name: 'eager', room: 'eager-home' },
    })
    try {
      await new Promise((resolve) => socket.once('welcome', resolve))
      const seen: string[] = []
      socket.on('message', (entry: { room: string; text: string }) => seen.push(`${entry.room}: ${entry.text}`))
      socket.emit('join', { room: 'eager' })
      socket.emit('send', { room: 'eager', text: 'right after the join' })
      await until(() => seen.includes('eager: right after the join') || undefined, 'its own message, in the room')
    } finally {
      socket.disconnect()
    }
  })

  it("takes a WebSocket client's frames in turn: a send right after its join reaches the room it joined", async () => {
    const socket = new WebSocket(`${a.url.replace('http', 'ws')}/ws?room=eager-ws-home&name=eager`)
    try {
      const seen: string[] = []
      let welcomed = false
      socket.on('message', (data) => {
        const entry = JSON.parse((data as Buffer).toString()) as { type: string; room: string; text: string }
        if (entry.type === 'welcome') welcomed = true
        if (entry.type === 'message') seen.push(`${entry.room}: ${entry.text}`)
      })
      await until(() => welcomed || undefined, 'the welcome')
      socket.send(JSON.stringify({ type: 'join', room: 'eager-ws' }))
      socket.send(JSON.stringify({ type: 'send', room: 'eager-ws', text: 'right after the join' }))
      await until(() => seen.includes('eager-ws: right after the join') || undefined, 'its own message, in the room')
    } finally {
      socket.close()
    }
  })

  it('starts a new epoch when Redis loses the room, and a resume from before says recovered: false', async () => {
    const room = 'lost-log'
    const old = (await said('long-polling', a, 'ann', room, 'old epoch')).message
    // What a restart without persistence does to the data.
    await admin.flushall()
    const fresh = (await said('websocket', b, 'bob', room, 'new epoch')).message
    expect(fresh.epoch).not.toBe(old.epoch)
    const back = client('short-polling', a.url, 'ann-again')
    const welcome = await back.join(room, { seq: old.seq, epoch: old.epoch })
    expect(welcome.recovered).toBe(false)
    expect(welcome.epoch).toBe(fresh.epoch)
  })

  it('refuses a send with LAB_ERR_UNAVAILABLE while Redis is down, and takes sends again once it is back', async () => {
    const room = 'outage'
    const ws = client('websocket', a.url, 'ws')
    await ws.join(room)
    await redis.kill()
    try {
      await ws.send(room, 'during the outage')
      const error = await until(() => ws.errors.find((e) => e.code === 'LAB_ERR_UNAVAILABLE'), 'a refusal', 10_000)
      expect(error.message).toMatch(/Redis/)
      const http = await fetch(`${b.url}/poll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'send', room, text: 'also during', name: 'curl' }),
      })
      expect(http.status).toBe(503)
      expect(await http.json()).toMatchObject({ code: 'LAB_ERR_UNAVAILABLE' })
    } finally {
      await redis.restart()
    }
    // Back by themselves: no restart of the servers.
    const after = client('short-polling', b.url, 'after')
    await until(
      async () => {
        const res = await fetch(`${b.url}/poll`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'send', room, text: 'after the outage', name: 'curl' }),
        })
        return res.status === 200
      },
      'a send to be taken again',
      15_000,
    )
    await after.join(room, { seq: 0 })
    await waitForText(after, room, 'after the outage')
    // Nothing acknowledged during the outage shows up afterwards.
    expect(messagesIn(after, room).map((m) => m.text)).not.toContain('during the outage')
  })

  it("removes a killed server's members from presence within the documented time", async () => {
    const room = 'crash'
    const watcher = client('websocket', a.url, 'watcher')
    await watcher.join(room)
    const doomed = await startServerProcess({ REDIS_URL: redis.url, INSTANCE_ID: 'doomed', NETWORK_PORT: '-1' })
    try {
      const victim = client('websocket', doomed.url, 'victim')
      await victim.join(room)
      await until(() => watcher.entries.find((e) => e.type === 'notice' && e.who.name === 'victim'), 'the join')
      doomed.child.kill('SIGKILL')
      await doomed.exited
      const left = await until(
        () => watcher.entries.find((e) => e.type === 'notice' && e.event === 'leave' && e.who.name === 'victim'),
        "the victim's leave notice",
        20_000,
      )
      expect(left).toMatchObject({ who: { instance: 'doomed' } })
      const presence = (await fetch(`${a.url}/api/rooms/${room}/presence`).then((r) => r.json())) as Array<{
        name: string
      }>
      expect(presence.map((m) => m.name)).not.toContain('victim')
    } finally {
      doomed.child.kill('SIGKILL')
    }
  }, 40_000)
})

describe.skipIf(!hasRedis)('a Redis that cannot be reached at start', () => {
  it('stops the server with a clear message and status 1, without hanging', async () => {
    const { code, output } = await runServerCommand([], {
      PORT: '0',
      NETWORK_PORT: '-1',
      // Nothing listens on port 1.
      REDIS_URL: 'redis://127.0.0.1:1',
    })
    expect(code).toBe(1)
    expect(output).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/)
    expect(output).toMatch(/retrying/)
  }, 30_000)
})
