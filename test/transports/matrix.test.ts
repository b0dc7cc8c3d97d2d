// The 5x5 matrix: a message sent over each transport reaches a client on each
// transport, and every client sees the room in the same seq order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TRANSPORTS } from '../../server/core/protocol.ts'
import { createClient, messagesIn, waitForText, type LabClient } from '../support/clients.ts'
import { startServer, type RunningServer } from '../support/server.ts'

const room = 'matrix'
let server: RunningServer
let clients: LabClient[]

beforeAll(async () => {
  server = await startServer()
  clients = TRANSPORTS.map((t) => createClient(t, server.url, `on-${t}`))
  for (const client of clients) await client.join(room)
})
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()))
  await server.close()
})

describe('one room, a client on each of the five transports', () => {
  it.each(TRANSPORTS)('a message sent over %s reaches every transport', async (from) => {
    const sender = clients.find((c) => c.transport === from)!
    const text = `hello from ${from}`
    await sender.send(room, text)
    for (const receiver of clients) {
      const got = await waitForText(receiver, room, text)
      expect(got.from.transport).toBe(from)
    }
  })

  it('every transport saw the same messages in the same seq order', async () => {
    const burst = TRANSPORTS.map((t) => `burst via ${t}`)
    await Promise.all(clients.map((c, i) => c.send(room, burst[i]!)))
    for (const client of clients) for (const text of burst) await waitForText(client, room, text)
    const orders = clients.map((c) => messagesIn(c, room).map((m) => `${m.seq}:${m.text}`))
    for (const order of orders) expect(order).toEqual(orders[0])
    const seqs = messagesIn(clients[0]!, room).map((m) => m.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    expect(orders[0]).toHaveLength(TRANSPORTS.length * 2)
  })

  it('presence lists each member with its transport', async () => {
    const presence = (await fetch(`${server.url}/api/rooms/${room}/presence`).then((r) => r.json())) as Array<{
      name: string
      transport: string
    }>
    for (const t of TRANSPORTS)
      expect(presence).toContainEqual(expect.objectContaining({ name: `on-${t}`, transport: t }))
  })
})
