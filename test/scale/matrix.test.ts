// The 5x5 matrix across two servers sharing one Redis: a message sent over
// any transport on server A reaches every transport on server B (and A), and
// every client on either server sees the room in the same seq order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { createClient, messagesIn, waitForText, type LabClient } from '../support/clients.ts'
import { requireBinary, startRedis, type RunningRedis } from '../support/redis.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const room = 'matrix'
const hasRedis = requireBinary('redis-server', 'redis-server')
let redis: RunningRedis
let a: RunningServer
let b: RunningServer
let onA: LabClient[]
let onB: LabClient[]

describe.skipIf(!hasRedis)('one room on two servers, a client on each transport on each', () => {
  beforeAll(async () => {
    redis = await startRedis()
    a = await startServer({ redisUrl: redis.url, instanceId: 'a' })
    b = await startServer({ redisUrl: redis.url, instanceId: 'b' })
    onA = TRANSPORTS.map((t) => createClient(t, a.url, `a-${t}`))
    onB = TRANSPORTS.map((t) => createClient(t, b.url, `b-${t}`))
    for (const client of [...onA, ...onB]) await client.join(room)
  })
  afterAll(async () => {
    await Promise.all([...(onA ?? []), ...(onB ?? [])].map((c) => c.close()))
    await a?.close()
    await b?.close()
    await redis?.stop()
  })

  it('each client is welcomed by the server it connected to', () => {
    for (const client of onA) expect(client.welcomes[0]?.instance).toBe('a')
    for (const client of onB) expect(client.welcomes[0]?.instance).toBe('b')
  })

  it.each(TRANSPORTS)('a message sent over %s on server A reaches every transport on both servers', async (from) => {
    const sender = onA.find((c) => c.transport === from)!
    const text = `hello from ${from} on a`
    await sender.send(room, text)
    for (const receiver of [...onA, ...onB]) {
      const got = await waitForText(receiver, room, text)
      expect(got.from).toMatchObject({ transport: from, instance: 'a' })
    }
  })

  it.each(TRANSPORTS)('a message sent over %s on server B reaches every transport on both servers', async (from) => {
    const sender = onB.find((c) => c.transport === from)!
    const text = `hello from ${from} on b`
    await sender.send(room, text)
    for (const receiver of [...onA, ...onB]) {
      const got = await waitForText(receiver, room, text)
      expect(got.from).toMatchObject({ transport: from, instance: 'b' })
    }
  })

  it('every client on either server saw the same messages in the same seq order', async () => {
    const everyone = [...onA, ...onB]
    const burst = everyone.map((c) => `burst via ${c.transport} on ${c.name[0]}`)
    await Promise.all(everyone.map((c, i) => c.send(room, burst[i]!)))
    for (const client of everyone) for (const text of burst) await waitForText(client, room, text)
    const orders = everyone.map((c) => messagesIn(c, room).map((m) => `${m.seq}:${m.text}`))
    for (const order of orders) expect(order).toEqual(orders[0])
    const seqs = messagesIn(everyone[0]!, room).map((m) => m.seq)
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y))
    expect(new Set(seqs).size).toBe(seqs.length)
    expect(orders[0]).toHaveLength(TRANSPORTS.length * 4)
  })

  it('GET /api/cluster on either server names it and both servers alive', async () => {
    for (const [server, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      const view = (await fetch(`${server.url}/api/cluster`).then((r) => r.json())) as Record<string, unknown>
      expect(view).toEqual({ instance: name, redis: redis.url, instances: ['a', 'b'] })
    }
  })

  it('presence on either server lists all ten members, each with its server', async () => {
    for (const server of [a, b]) {
      const presence = (await fetch(`${server.url}/api/rooms/${room}/presence`).then((r) => r.json())) as Array<{
        name: string
        transport: string
        instance: string
      }>
      for (const t of TRANSPORTS) {
        expect(presence).toContainEqual(expect.objectContaining({ name: `a-${t}`, transport: t, instance: 'a' }))
        expect(presence).toContainEqual(expect.objectContaining({ name: `b-${t}`, transport: t, instance: 'b' }))
      }
    }
  })
})
